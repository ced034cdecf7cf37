// Original file: proto/moco/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface CloneResponse {
  'bytesTransferred'?: (string);
  'durationMs'?: (number | string | Long);
  'gtid'?: (string);
}

export interface CloneResponse__Output {
  'bytesTransferred': (string);
  'durationMs': (number);
  'gtid': (string);
}
