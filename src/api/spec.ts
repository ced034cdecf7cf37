/**
 * The normalized desired state of one cluster, as read from a `MySQLCluster` manifest (and the ConfigMap and
 * BackupPolicy documents beside it). Everything the coordinator and the local platform need; Kubernetes-only
 * fields stay in the raw document. It is JSON-serializable; on one machine it is derived from the stored manifest
 * whenever it is read, so the credentials it holds (resolved job environments, the source Secret) are never stored.
 */

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

/** `bucketConfig.backendType`: `file` is the local embedded store; gcs and azure are not supported locally. */
export type BackendTypeName = 's3' | 'file' | 'gcs' | 'azure';

/** A `bucketConfig` with defaults applied and `$(VAR)` expanded from the job environment. */
export interface BucketConfigSpec {
  /** S3: the bucket. file: a directory, relative to the state directory unless absolute. */
  bucketName: string;
  region?: string;
  /** http:// or https:// URL of an S3-compatible endpoint. */
  endpointURL?: string;
  /** Default false. */
  usePathStyle: boolean;
  /** Default s3. */
  backendType: BackendTypeName;
  /** Path of an extra PEM CA bundle (S3 only), relative to the state directory unless absolute. */
  caCert?: string;
}

/** A `jobConfig` as used locally. */
export interface JobConfigSpec {
  /** Parallelism of the dump and compression; default 4, at least 1. */
  threads: number;
  bucketConfig: BucketConfigSpec;
  /**
   * The resolved container environment (envFrom, then env; Secret values decoded). It may hold credentials
   * (AWS_SECRET_ACCESS_KEY): never log it.
   */
  env: Record<string, string>;
  /** Kept for the manifest's sake; there are no ServiceAccounts locally. */
  serviceAccountName?: string;
}

/** A BackupPolicy's `spec` plus its name. */
export interface BackupPolicySpec {
  name: string;
  /** A cron schedule accepted by the cron parser (UTC). */
  schedule: string;
  /** Only UTC or Etc/UTC are accepted locally. */
  timeZone?: string;
  /** What to do when a backup is due while the previous one still runs; default Allow. */
  concurrencyPolicy: 'Allow' | 'Forbid' | 'Replace';
  startingDeadlineSeconds?: number;
  activeDeadlineSeconds?: number;
  backoffLimit?: number;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  jobConfig: JobConfigSpec;
}

/** `MySQLCluster.spec.restore`, normalized. */
export interface RestoreSpec {
  sourceName: string;
  sourceNamespace: string;
  /** RFC 3339 in UTC with whole seconds, e.g. "2021-05-26T12:34:56Z" (fractions are truncated, as MOCO does). */
  restorePoint: string;
  schema?: string;
  users?: string;
  jobConfig: JobConfigSpec;
}

