// Original file: proto/moco/agent/v1/agent.proto


export interface CloneRequest {
  'donorAgentAddress'?: (string);
  'donorHost'?: (string);
  'donorPort'?: (number);
  'donorUser'?: (string);
  'donorPassword'?: (string);
  'bootTimeoutSeconds'?: (number);
  'initUser'?: (string);
  'initPassword'?: (string);
  'passwords'?: ({[key: string]: string});
}

export interface CloneRequest__Output {
  'donorAgentAddress': (string);
  'donorHost': (string);
  'donorPort': (number);
  'donorUser': (string);
  'donorPassword': (string);
  'bootTimeoutSeconds': (number);
  'initUser': (string);
  'initPassword': (string);
  'passwords': ({[key: string]: string});
}
