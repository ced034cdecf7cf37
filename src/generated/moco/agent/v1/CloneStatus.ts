// Original file: proto/moco/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface CloneStatus {
  'state'?: (string);
  'phase'?: (string);
  'bytesTransferred'?: (string);
  'startedAtMs'?: (number | string | Long);
  'finishedAtMs'?: (number | string | Long);
  'error'?: (string);
  'donor'?: (string);
}

export interface CloneStatus__Output {
  'state': (string);
  'phase': (string);
  'bytesTransferred': (string);
  'startedAtMs': (number);
  'finishedAtMs': (number);
  'error': (string);
  'donor': (string);
}
