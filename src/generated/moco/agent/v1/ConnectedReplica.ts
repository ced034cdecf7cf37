// Original file: proto/moco/agent/v1/agent.proto


export interface ConnectedReplica {
  'serverId'?: (number);
  'host'?: (string);
  'port'?: (number);
}

export interface ConnectedReplica__Output {
  'serverId': (number);
  'host': (string);
  'port': (number);
}
