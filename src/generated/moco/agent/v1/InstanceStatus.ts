// Original file: proto/moco/agent/v1/agent.proto

import type { GtidSet as _moco_agent_v1_GtidSet, GtidSet__Output as _moco_agent_v1_GtidSet__Output } from '../../../moco/agent/v1/GtidSet';
import type { SemiSyncStatus as _moco_agent_v1_SemiSyncStatus, SemiSyncStatus__Output as _moco_agent_v1_SemiSyncStatus__Output } from '../../../moco/agent/v1/SemiSyncStatus';
import type { ConnectedReplica as _moco_agent_v1_ConnectedReplica, ConnectedReplica__Output as _moco_agent_v1_ConnectedReplica__Output } from '../../../moco/agent/v1/ConnectedReplica';
import type { ReplicaStatus as _moco_agent_v1_ReplicaStatus, ReplicaStatus__Output as _moco_agent_v1_ReplicaStatus__Output } from '../../../moco/agent/v1/ReplicaStatus';
import type { CloneStatus as _moco_agent_v1_CloneStatus, CloneStatus__Output as _moco_agent_v1_CloneStatus__Output } from '../../../moco/agent/v1/CloneStatus';
import type { MariadbGtidState as _moco_agent_v1_MariadbGtidState, MariadbGtidState__Output as _moco_agent_v1_MariadbGtidState__Output } from '../../../moco/agent/v1/MariadbGtidState';
import type { Long } from '@grpc/proto-loader';

export interface InstanceStatus {
  'flavor'?: (string);
  'version'?: (string);
  'serverId'?: (number);
  'instanceId'?: (string);
  'gtidSourceId'?: (string);
  'executed'?: (_moco_agent_v1_GtidSet | null);
  'purged'?: (_moco_agent_v1_GtidSet | null);
  'readOnly'?: (boolean);
  'semiSync'?: (_moco_agent_v1_SemiSyncStatus | null);
  'connectedReplicas'?: (_moco_agent_v1_ConnectedReplica)[];
  'replica'?: (_moco_agent_v1_ReplicaStatus | null);
  'clone'?: (_moco_agent_v1_CloneStatus | null);
  'hasUserData'?: (boolean);
  'uptimeSeconds'?: (number | string | Long);
  'observedAtMs'?: (number | string | Long);
  'mariadb'?: (_moco_agent_v1_MariadbGtidState | null);
}

export interface InstanceStatus__Output {
  'flavor': (string);
  'version': (string);
  'serverId': (number);
  'instanceId': (string);
  'gtidSourceId': (string);
  'executed': (_moco_agent_v1_GtidSet__Output | null);
  'purged': (_moco_agent_v1_GtidSet__Output | null);
  'readOnly': (boolean);
  'semiSync': (_moco_agent_v1_SemiSyncStatus__Output | null);
  'connectedReplicas': (_moco_agent_v1_ConnectedReplica__Output)[];
  'replica': (_moco_agent_v1_ReplicaStatus__Output | null);
  'clone': (_moco_agent_v1_CloneStatus__Output | null);
  'hasUserData': (boolean);
  'uptimeSeconds': (number);
  'observedAtMs': (number);
  'mariadb': (_moco_agent_v1_MariadbGtidState__Output | null);
}
