// Original file: proto/moco/agent/v1/agent.proto

import type { RestoreResult as _moco_agent_v1_RestoreResult, RestoreResult__Output as _moco_agent_v1_RestoreResult__Output } from '../../../moco/agent/v1/RestoreResult';
import type { Long } from '@grpc/proto-loader';

export interface RestoreProgress {
  'phase'?: (string);
  'bytes'?: (number | string | Long);
  'result'?: (_moco_agent_v1_RestoreResult | null);
}

export interface RestoreProgress__Output {
  'phase': (string);
  'bytes': (number);
  'result': (_moco_agent_v1_RestoreResult__Output | null);
}
