/**
 * What the CLI asks of a platform about its clusters: `moco` (local clusters, src/platform/local/client.ts) and
 * `kubectl moco` (Kubernetes, src/platform/kubernetes/client.ts) implement this one interface, so that both share
 * every command's code (src/cli/commands.ts): argument parsing, waiting and printing.
 */
import type { ClusterStatus, Condition, RoleChange } from '../api/types.ts';

/** An event about a cluster, oldest first when listed. */
export interface ClusterEvent {
  time: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** What the agent says about an instance right now. */
export interface LiveDetails {
  readOnly: boolean;
  gtidExecuted: string;
  uptimeSeconds: number;
  replication?: { source: string; io: string; sql: boolean; delaySeconds: number | null; lastError?: string };
  clone?: string;
}

export interface InstanceView {
  index: number;
  role: '' | 'primary' | 'replica';
  ready: boolean;
  /** The readiness answer ("replicating", "replication delay 75s is at or over the limit 60s", ...). */
  reason?: string;
  /** Read from the agent now, where the platform can (absent when it does not answer). */
  live?: LiveDetails;
  /** Where it is, in the platform's terms (local: mysqld's port; Kubernetes: the Pod's name and IP). */
  address?: string;
  /** Why the instance is not running, in the platform's terms ("not running (moco up restarts it)", "Pod Pending"). */
  down?: string;
  /**
   * What the platform says of a running instance where it cannot ask the agent (`kubectl moco` outside the
   * cluster: "mysqld restarted 2 times"); '' when nothing is worth saying.
   */
  note?: string;
}

export interface ClusterView {
  name: string;
  namespace: string;
  replicas: number;
  /** spec.offline: every instance stopped on purpose. */
  offline: boolean;
  status: Pick<ClusterStatus, 'currentPrimaryIndex' | 'conditions' | 'syncedReplicas' | 'errantReplicas' | 'errantReplicaList' | 'backup' | 'restoredTime'> &
    { state: string | null; cloned: boolean; lastFailover?: RoleChange; lastSwitchover?: RoleChange } &
    Pick<ClusterStatus, 'lastBackupFailure' | 'restore' | 'lastCloneFailure'>;
  /** False while clustering is stopped (the state is then not judged). */
  clusteringActive: boolean;
  /** False while reconciliation is stopped (manifest changes are not applied). */
  reconciliationActive: boolean;
  /** When the coordinator last observed the cluster (its heartbeat); null when never. */
  observedAt: string | null;
  /** Whether the coordinator runs (null: cannot tell), and how to say so. */
  coordinator: { running: boolean | null; detail: string };
  /** Where clients connect: the primary and replica endpoints (addresses or Service names); null when down. */
  endpoints: { primary: string | null; replica: string | null };
  instances: InstanceView[];
}

export type { Condition };

/** One of the accounts handed to users and their password keys. */
export type ClientUser = 'moco-readonly' | 'moco-writable' | 'moco-admin';

export interface MysqlOptions {
  user: ClientUser;
  /** The instance; default the primary. */
  index?: number;
  /** Arguments for the client (after `--`). */
  args: string[];
  stdin: boolean;
  tty: boolean;
}

/** A platform's clusters, as the CLI sees them. Errors are CliErrors the CLI prints as they are. */
export interface ClusterClient {
  /** Where the clusters are, for messages ("/home/me/.moco", "namespace foo"). */
  readonly where: string;
  /** The command line's name for itself in hints ("moco", "kubectl moco"). */
  readonly self: string;
  list(): Promise<string[]>;
  /** The cluster a command names; without a name, the only one (else a usage error listing them). */
  resolve(name: string | undefined): Promise<string>;
  view(name: string, options?: { live?: boolean }): Promise<ClusterView>;
  events(name: string): Promise<ClusterEvent[]>;
  /** Stops or starts clustering or reconciliation; false when it already was so. */
  setStopped(name: string, what: 'clustering' | 'reconciliation', stopped: boolean): Promise<boolean>;
  /** Asks for a switchover (the demote annotation / a request file). */
  requestSwitchover(name: string): Promise<void>;
  credential(name: string, user: ClientUser): Promise<string>;
  /** Runs the mysql client against an instance; resolves to its exit code. */
  mysql(name: string, options: MysqlOptions): Promise<number>;
  /** Makes every instance read-only for every user account; returns the instances it could not reach. */
  setReadOnly(name: string): Promise<Array<{ index: number; error: string }>>;
  /** The server variable that says read-only for users (`read_only` on MariaDB, `super_read_only` on MySQL). */
  readOnlyVariable(name: string): Promise<string>;
}
