// Original file: proto/moco/agent/v1/agent.proto


export interface SetWritableRequest {
}

export interface SetWritableRequest__Output {
}
