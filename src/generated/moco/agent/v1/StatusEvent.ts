// Original file: proto/moco/agent/v1/agent.proto

import type { InstanceStatus as _moco_agent_v1_InstanceStatus, InstanceStatus__Output as _moco_agent_v1_InstanceStatus__Output } from '../../../moco/agent/v1/InstanceStatus';

export interface StatusEvent {
  'status'?: (_moco_agent_v1_InstanceStatus | null);
  'heartbeat'?: (boolean);
}

export interface StatusEvent__Output {
  'status': (_moco_agent_v1_InstanceStatus__Output | null);
  'heartbeat': (boolean);
}
