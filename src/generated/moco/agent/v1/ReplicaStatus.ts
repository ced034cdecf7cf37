// Original file: proto/moco/agent/v1/agent.proto

import type { GtidSet as _moco_agent_v1_GtidSet, GtidSet__Output as _moco_agent_v1_GtidSet__Output } from '../../../moco/agent/v1/GtidSet';
import type { Long } from '@grpc/proto-loader';

export interface ReplicaStatus {
  'sourceHost'?: (string);
  'sourcePort'?: (number);
  'sourceUser'?: (string);
  'ioRunning'?: (boolean);
  'sqlRunning'?: (boolean);
  'ioState'?: (string);
  'sqlState'?: (string);
  'received'?: (_moco_agent_v1_GtidSet | null);
  'receivedReliable'?: (boolean);
  'lastIoErrno'?: (number);
  'lastIoError'?: (string);
  'lastSqlErrno'?: (number);
  'lastSqlError'?: (string);
  'secondsBehindSource'?: (number | string | Long);
  'semiSyncReplicaActive'?: (boolean);
  'heartbeatPeriodMs'?: (number);
  'ioConnected'?: (boolean);
  'receivedAgoMs'?: (number);
  'sourceSilent'?: (boolean);
  '_secondsBehindSource'?: "secondsBehindSource";
  '_receivedAgoMs'?: "receivedAgoMs";
}

export interface ReplicaStatus__Output {
  'sourceHost': (string);
  'sourcePort': (number);
  'sourceUser': (string);
  'ioRunning': (boolean);
  'sqlRunning': (boolean);
  'ioState': (string);
  'sqlState': (string);
  'received': (_moco_agent_v1_GtidSet__Output | null);
  'receivedReliable': (boolean);
  'lastIoErrno': (number);
  'lastIoError': (string);
  'lastSqlErrno': (number);
  'lastSqlError': (string);
  'secondsBehindSource'?: (number);
  'semiSyncReplicaActive': (boolean);
  'heartbeatPeriodMs': (number);
  'ioConnected': (boolean);
  'receivedAgoMs'?: (number);
  'sourceSilent': (boolean);
  '_secondsBehindSource'?: "secondsBehindSource";
  '_receivedAgoMs'?: "receivedAgoMs";
}
