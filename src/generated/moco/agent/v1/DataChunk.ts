// Original file: proto/moco/agent/v1/agent.proto


export interface DataChunk {
  'data'?: (Buffer | Uint8Array | string);
}

export interface DataChunk__Output {
  'data': (Buffer);
}
