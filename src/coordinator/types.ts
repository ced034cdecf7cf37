/**
 * What the coordinator observes and what it records. The platform adapter (local state directory, or the
 * Kubernetes API later) fills `Observation`; `decide` reads it and nothing else.
 */
import type { ClusterSpec } from '../cluster/spec.ts';
import type { InstanceStatus } from '../shared/agent-client.ts';
import type { Role } from '../platform/local/roles.ts';

export type { InstanceStatus, Role };

export type ClusterState = 'Offline' | 'Cloning' | 'Restoring' | 'Healthy' | 'Degraded' | 'Failed' | 'Lost' | 'Incomplete';

/** `status.backup`: the last successful backup (the seed system's BackupStatus). */
export interface BackupStatus {
  time: string | null;
  elapsed: string;
  sourceIndex: number;
  sourceUUID: string;
  uuidSet: Record<string, string>;
  binlogFilename: string;
  gtidSet: string;
  dumpSize: number;
  binlogSize: number;
  workDirUsage: number;
  warnings: string[] | null;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/** `MySQLCluster.status`, as persisted between observations. */
export interface ClusterStatus {
  currentPrimaryIndex: number;
  conditions: Condition[];
  syncedReplicas: number;
  errantReplicas: number;
  errantReplicaList: number[];
  cloned: boolean;
  /** The last successful backup; `{}` before the first one. */
  backup: Partial<BackupStatus>;
  restoredTime: string | null;
  /** The last backup that failed after the last success; cleared by the next success. */
  lastBackupFailure?: { time: string; message: string };
  /** The last clone from the external source that failed (cleared by a successful one). */
  lastCloneFailure?: { time: string; message: string };
  /** Set once the cluster was Available (Healthy or Degraded): before that a primary that does not answer is starting, not lost. */
  availableOnce?: boolean;
  /** How the restore went (set while Restoring and once restored). */
  restore?: {
    backupTime?: string; binlogApplied?: boolean; warnings?: string[]; error?: string; errorTime?: string;
    /** While it runs: download, prepare, restart, binlog; done at the end. */
    phase?: string;
    bytes?: number;
  };
  /** Acknowledgements a commit waits for, as the primary's agent last reported (MariaDB: always 1). */
  semiSyncAcks?: number;
  state?: ClusterState;
  /** When the state was last computed. */
  observedAt?: string;
}

export function initialStatus(): ClusterStatus {
  return {
    currentPrimaryIndex: 0, conditions: [], syncedReplicas: 0, errantReplicas: 0, errantReplicaList: [],
    cloned: false, backup: {}, restoredTime: null,
  };
}

/** Where other instances reach an instance's mysqld (replication source) and its agent (clone donor). */
export interface InstanceAddress {
  host: string;
  port: number;
  agent: string;
}

export interface InstanceView {
  index: number;
  /** Live status; null when the agent or mysqld does not answer (or mysqld is hung: see `hung`). */
  status: InstanceStatus | null;
  /** The agent's readiness (/readyz); false when unreachable. */
  ready: boolean;
  /** The role currently published for it (the Pod label). */
  role: Role;
  address: InstanceAddress;
  /** Not the primary, yet sessions wait for semi-sync acknowledgements: treated as unavailable. */
  hung?: boolean;
}

export interface Observation {
  spec: ClusterSpec;
  status: ClusterStatus;
  instances: InstanceView[];
  /** The primary's status read again after the others (so replicas are never compared with an older one). */
  primaryFresh: InstanceStatus | null;
  /** A switchover was requested (the demote annotation) or the primary is terminating. */
  switchoverRequested: boolean;
}
