// Original file: proto/moco/agent/v1/agent.proto

import type { BackupResult as _moco_agent_v1_BackupResult, BackupResult__Output as _moco_agent_v1_BackupResult__Output } from '../../../moco/agent/v1/BackupResult';
import type { Long } from '@grpc/proto-loader';

export interface BackupProgress {
  'phase'?: (string);
  'bytes'?: (number | string | Long);
  'result'?: (_moco_agent_v1_BackupResult | null);
}

export interface BackupProgress__Output {
  'phase': (string);
  'bytes': (number);
  'result': (_moco_agent_v1_BackupResult__Output | null);
}
