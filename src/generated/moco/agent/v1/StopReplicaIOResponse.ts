// Original file: proto/moco/agent/v1/agent.proto


export interface StopReplicaIOResponse {
  'changed'?: (boolean);
}

export interface StopReplicaIOResponse__Output {
  'changed': (boolean);
}
