// Original file: proto/moco/agent/v1/agent.proto


export interface MariadbGtidState {
  'binlogState'?: (string);
  'binlogPos'?: (string);
  'slavePos'?: (string);
  'currentPos'?: (string);
}

export interface MariadbGtidState__Output {
  'binlogState': (string);
  'binlogPos': (string);
  'slavePos': (string);
  'currentPos': (string);
}
