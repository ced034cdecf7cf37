// Original file: proto/moco/agent/v1/agent.proto


export interface GtidInterval {
  'uuid'?: (string);
  'tag'?: (string);
  'domain'?: (number);
  'serverId'?: (number);
  'start'?: (string);
  'end'?: (string);
}

export interface GtidInterval__Output {
  'uuid': (string);
  'tag': (string);
  'domain': (number);
  'serverId': (number);
  'start': (string);
  'end': (string);
}
