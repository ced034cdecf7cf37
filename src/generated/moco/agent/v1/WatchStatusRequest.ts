// Original file: proto/moco/agent/v1/agent.proto


export interface WatchStatusRequest {
}

export interface WatchStatusRequest__Output {
}
