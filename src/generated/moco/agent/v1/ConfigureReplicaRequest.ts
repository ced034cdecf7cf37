// Original file: proto/moco/agent/v1/agent.proto


export interface ConfigureReplicaRequest {
  'sourceHost'?: (string);
  'sourcePort'?: (number);
  'user'?: (string);
  'password'?: (string);
  'semiSync'?: (boolean);
  'heartbeatPeriodMs'?: (number);
  'netTimeoutSeconds'?: (number);
}

export interface ConfigureReplicaRequest__Output {
  'sourceHost': (string);
  'sourcePort': (number);
  'user': (string);
  'password': (string);
  'semiSync': (boolean);
  'heartbeatPeriodMs': (number);
  'netTimeoutSeconds': (number);
}
