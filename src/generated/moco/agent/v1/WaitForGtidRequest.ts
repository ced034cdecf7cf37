// Original file: proto/moco/agent/v1/agent.proto


export interface WaitForGtidRequest {
  'gtidSet'?: (string);
  'timeoutMs'?: (number);
}

export interface WaitForGtidRequest__Output {
  'gtidSet': (string);
  'timeoutMs': (number);
}
