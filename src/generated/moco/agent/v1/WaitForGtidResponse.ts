// Original file: proto/moco/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface WaitForGtidResponse {
  'waitedMs'?: (number | string | Long);
}

export interface WaitForGtidResponse__Output {
  'waitedMs': (number);
}
