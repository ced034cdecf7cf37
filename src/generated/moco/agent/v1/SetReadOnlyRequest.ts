// Original file: proto/moco/agent/v1/agent.proto


export interface SetReadOnlyRequest {
}

export interface SetReadOnlyRequest__Output {
}
