/**
 * The normalized desired state of one cluster, as read from a `MySQLCluster` manifest (and the ConfigMap and
 * BackupPolicy documents beside it). Everything the coordinator and the local platform need; Kubernetes-only
 * fields stay in the raw document. It is JSON-serializable (written to the state directory's spec.json).
 */
import type { BackupPolicySpec, RestoreSpec } from '../backup/policy.ts';

export interface ClusterSpec {
  name: string;
  namespace: string;
  /** Positive odd number of instances. */
  replicas: number;
  offline: boolean;
  /** server_id of instance i = serverIdBase + i. */
  serverIdBase: number;
  /** Replica readiness threshold for replication delay; 0 disables the check. Default 60. */
  maxDelaySeconds: number;
  /** > 0: switchovers are held while a replica is further behind than this. Default 0 (off). */
  maxDelaySecondsForPodDeletion: number;
  /** Maximum wait for mysqld to start; also the clone boot timeout. Default 3600. */
  startupWaitSeconds: number;
  replicationSourceSecretName?: string;
  /**
   * The external source, from the Secret named by replicationSourceSecretName when it is in the same file;
   * absent while that Secret is missing (the cluster then waits in the Cloning state).
   */
  replicationSource?: ReplicationSource;
  backupPolicyName?: string;
  /**
   * The BackupPolicy named by backupPolicyName (it must be in the same file), normalized. Its
   * `jobConfig.env` holds resolved Secret values.
   */
  backupPolicy?: BackupPolicySpec;
  /** `spec.restore`, normalized (restorePoint in UTC whole seconds; env resolved). Immutable after creation. */
  restore?: RestoreSpec;
  mysqlConfigMapName?: string;
  /** mysqld options from the ConfigMap named by mysqlConfigMapName (its `data`). */
  mycnf: Record<string, string>;
  /** Memory request or limit of the mysqld container, in bytes (feeds the buffer pool rule). */
  memoryBytes?: number;
}

/** The keys of the seed's source Secret: HOST, PORT, USER, PASSWORD, INIT_USER, INIT_PASSWORD. */
export interface ReplicationSource {
  host: string;
  port: number;
  /** Clones (MySQL: CLONE; MariaDB: a consistent dump) and replicates as this account. */
  user: string;
  password: string;
  /** MySQL only: the account that re-creates the cluster's own accounts on the cloned data. */
  initUser?: string;
  initPassword?: string;
}

export interface LoadedManifest {
  spec: ClusterSpec;
  /** The documents as written. */
  cluster: Record<string, unknown>;
  configMap?: Record<string, unknown>;
  backupPolicy?: Record<string, unknown>;
  /** Fields that are accepted but do not apply to a local cluster, as dotted paths with a short reason. */
  notApplyingLocally: string[];
  /** Where the mysqld container names an image (`path (image)`): locally the machine's own mysqld runs instead. */
  imageNotes: string[];
}
