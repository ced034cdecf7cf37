// Original file: proto/moco/agent/v1/agent.proto


export interface FlushBinlogsRequest {
}

export interface FlushBinlogsRequest__Output {
}
