// Original file: proto/moco/agent/v1/agent.proto


export interface SetReadOnlyResponse {
  'changed'?: (boolean);
}

export interface SetReadOnlyResponse__Output {
  'changed': (boolean);
}
