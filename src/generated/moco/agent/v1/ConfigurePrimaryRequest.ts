// Original file: proto/moco/agent/v1/agent.proto


export interface ConfigurePrimaryRequest {
  'waitForReplicaCount'?: (number);
}

export interface ConfigurePrimaryRequest__Output {
  'waitForReplicaCount': (number);
}
