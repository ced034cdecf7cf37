// Original file: proto/moco/agent/v1/agent.proto


export interface KillConnectionsResponse {
  'killed'?: (number);
}

export interface KillConnectionsResponse__Output {
  'killed': (number);
}
