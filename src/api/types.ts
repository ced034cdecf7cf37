/**
 * The MySQLCluster status and the words the coordinator, the platforms and the CLI share about a cluster
 * (moco.cybozu.com/v1beta2). Pure types; nothing here imports the rest of the project.
 */

/** An instance's role, published as the `moco.cybozu.com/role` Pod label (locally: roles.json); '' for none. */
export type Role = 'primary' | 'replica' | '';

/** The last failover or switchover, as the coordinator recorded it. */
export interface RoleChange {
  time: string;
  from: number;
  to: number;
  /** How long clients could not write, as the coordinator measured it (seconds). */
  writeUnavailableSeconds: number;
}

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
  lastFailover?: RoleChange;
  lastSwitchover?: RoleChange;
}

export function initialStatus(): ClusterStatus {
  return {
    currentPrimaryIndex: 0, conditions: [], syncedReplicas: 0, errantReplicas: 0, errantReplicaList: [],
    cloned: false, backup: {}, restoredTime: null,
  };
}

