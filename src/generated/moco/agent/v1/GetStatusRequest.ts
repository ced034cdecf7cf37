// Original file: proto/moco/agent/v1/agent.proto


export interface GetStatusRequest {
}

export interface GetStatusRequest__Output {
}
