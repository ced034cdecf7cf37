// Original file: proto/moco/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface RestoreResult {
  'backupTime'?: (string);
  'restorePoint'?: (string);
  'durationMs'?: (number | string | Long);
  'downloadedBytes'?: (number | string | Long);
  'binlogApplied'?: (boolean);
  'warnings'?: (string)[];
}

export interface RestoreResult__Output {
  'backupTime': (string);
  'restorePoint': (string);
  'durationMs': (number);
  'downloadedBytes': (number);
  'binlogApplied': (boolean);
  'warnings': (string)[];
}
