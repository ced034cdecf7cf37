// Original file: proto/moco/agent/v1/agent.proto


export interface KillConnectionsRequest {
}

export interface KillConnectionsRequest__Output {
}
