// Original file: proto/moco/agent/v1/agent.proto


export interface SemiSyncStatus {
  'sourceEnabled'?: (boolean);
  'replicaEnabled'?: (boolean);
  'waitForReplicaCount'?: (number);
  'waitSessions'?: (number);
  'sourceClients'?: (number);
  'sourceActive'?: (boolean);
  'timeoutMs'?: (string);
}

export interface SemiSyncStatus__Output {
  'sourceEnabled': (boolean);
  'replicaEnabled': (boolean);
  'waitForReplicaCount': (number);
  'waitSessions': (number);
  'sourceClients': (number);
  'sourceActive': (boolean);
  'timeoutMs': (string);
}
