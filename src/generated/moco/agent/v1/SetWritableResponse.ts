// Original file: proto/moco/agent/v1/agent.proto


export interface SetWritableResponse {
  'changed'?: (boolean);
}

export interface SetWritableResponse__Output {
  'changed': (boolean);
}
