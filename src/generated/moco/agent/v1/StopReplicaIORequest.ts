// Original file: proto/moco/agent/v1/agent.proto


export interface StopReplicaIORequest {
}

export interface StopReplicaIORequest__Output {
}
