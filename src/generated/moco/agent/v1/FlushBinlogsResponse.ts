// Original file: proto/moco/agent/v1/agent.proto


export interface FlushBinlogsResponse {
  'binlogFile'?: (string);
}

export interface FlushBinlogsResponse__Output {
  'binlogFile': (string);
}
