// Original file: proto/moco/agent/v1/agent.proto


export interface StreamCloneRequest {
}

export interface StreamCloneRequest__Output {
}
