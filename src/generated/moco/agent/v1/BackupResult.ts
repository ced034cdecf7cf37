// Original file: proto/moco/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface BackupResult {
  'time'?: (string);
  'gtid'?: (string);
  'instanceId'?: (string);
  'binlogFile'?: (string);
  'dumpSize'?: (number | string | Long);
  'binlogSize'?: (number | string | Long);
  'workDirUsage'?: (number | string | Long);
  'warnings'?: (string)[];
  'format'?: (string);
  'compression'?: (string);
  'startedAtMs'?: (number | string | Long);
  'finishedAtMs'?: (number | string | Long);
  'manifestKey'?: (string);
}

export interface BackupResult__Output {
  'time': (string);
  'gtid': (string);
  'instanceId': (string);
  'binlogFile': (string);
  'dumpSize': (number);
  'binlogSize': (number);
  'workDirUsage': (number);
  'warnings': (string)[];
  'format': (string);
  'compression': (string);
  'startedAtMs': (number);
  'finishedAtMs': (number);
  'manifestKey': (string);
}
