// Original file: proto/moco/agent/v1/agent.proto


export interface ConfigurePrimaryResponse {
  'changed'?: (boolean);
  'effectiveWaitCount'?: (number);
}

export interface ConfigurePrimaryResponse__Output {
  'changed': (boolean);
  'effectiveWaitCount': (number);
}
