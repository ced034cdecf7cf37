// Original file: proto/moco/agent/v1/agent.proto


export interface ConfigureReplicaResponse {
  'changed'?: (boolean);
}

export interface ConfigureReplicaResponse__Output {
  'changed': (boolean);
}
