/**
 * The flavor adapter: every statement that differs between MySQL 8.4 and MariaDB 10.11 lives behind this
 * interface (invariant 6). The agent's RPCs call it; nothing else in the agent branches on the flavor.
 */
import type { Db, QueryOptions } from '../db.ts';
import type { Flavor } from '../../gtid/index.ts';
import type { Passwords } from '../../shared/accounts.ts';

export type { Flavor };

/** Replica-side view, as the server reports it. */
export interface ReplicaView {
  sourceHost: string;
  sourcePort: number;
  sourceUser: string;
  /** 'Yes', 'No' or 'Connecting'. */
  ioState: string;
  ioRunning: boolean;
  sqlRunning: boolean;
  ioThreadState: string;
  sqlThreadState: string;
  received: string;
  receivedReliable: boolean;
  lastIoErrno: number;
  lastIoError: string;
  lastSqlErrno: number;
  lastSqlError: string;
  secondsBehindSource: number | null;
  heartbeatPeriodMs: number;
  /**
   * Changes whenever the receiver gets anything from the source (an event or a heartbeat); undefined when the
   * server does not expose that (MySQL: its heartbeat counters are in performance_schema, not read here).
   */
  receivedMarker?: string;
}

/** Everything the adapter reads from mysqld for one status. */
export interface FlavorStatus {
  flavor: Flavor;
  version: string;
  serverId: number;
  /** MySQL: server_uuid. MariaDB: empty (the agent supplies its own id). */
  serverUuid: string;
  gtidSourceId: string;
  executed: string;
  purged: string;
  /** Refuses writes from every account handed to users, moco-admin included (MySQL: super_read_only). */
  readOnly: boolean;
  /** Takes writes from user accounts: read_only (and super_read_only) off. */
  writable: boolean;
  semiSync: {
    sourceEnabled: boolean;
    replicaEnabled: boolean;
    waitForReplicaCount: number;
    waitSessions: number;
    sourceClients: number;
    sourceActive: boolean;
    replicaActive: boolean;
    timeoutMs: string;
  };
  connectedReplicas: { serverId: number; host: string; port: number }[];
  replica: ReplicaView | null;
  hasUserData: boolean;
  uptimeSeconds: number;
  mariadb: { binlogState: string; binlogPos: string; slavePos: string; currentPos: string } | null;
}

/** Where and as whom to replicate from. */
export interface ReplicaTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  semiSync: boolean;
  heartbeatPeriodMs: number;
  netTimeoutSeconds: number;
}

/** Replication delay as the flavor can measure it, for the readiness probe. */
export interface DelayReading {
  /** Seconds the applier is behind; null when it cannot be told. */
  delaySeconds: number | null;
  /** False while nothing has been received since mysqld started (MySQL's warm-up rule). */
  receivedAnything: boolean;
}

/** What re-asserting the project's accounts did (see docs/users.md). */
export interface AccountReassertResult {
  /** False when this flavor does not re-assert accounts (MySQL: the reason is in docs/users.md). */
  supported: boolean;
  /** One line per change made, in the order made; never a secret. */
  changes: string[];
  /** Changes that failed (the others were still made); the caller retries later. */
  failures: { change: string; error: string }[];
  /** Stored objects that run as moco-agent: whoever may call them can write on a read-only instance. Reported only. */
  definerObjects: string[];
  /** Accounts and roles other than moco-admin and moco-agent that may modify the `mysql` schema. Reported only. */
  mysqlWriters: string[];
}

export interface FlavorAdapter {
  readonly flavor: Flavor;
  /** The semi-sync acknowledgement count this flavor can express for a request of `requested`. */
  effectiveWaitCount(requested: number): number;
  readStatus(db: Db, options?: QueryOptions): Promise<FlavorStatus>;
  configurePrimary(db: Db, waitCount: number, current: FlavorStatus): Promise<boolean>;
  configureReplica(db: Db, target: ReplicaTarget, current: FlavorStatus): Promise<boolean>;
  stopReplicaIO(db: Db, current: FlavorStatus): Promise<boolean>;
  /** Waits at most `timeoutMs` for one wait step; resolves true when the set is executed. */
  waitForExecuted(db: Db, gtid: string, timeoutMs: number, current: FlavorStatus, signal: AbortSignal): Promise<boolean>;
  setReadOnly(db: Db, current: FlavorStatus): Promise<boolean>;
  setWritable(db: Db, current: FlavorStatus): Promise<boolean>;
  flushBinlogs(db: Db): Promise<string>;
  readDelay(db: Db, current: FlavorStatus): Promise<DelayReading>;
  /**
   * Brings the project's accounts back to their passwords and exact privileges, and takes the privileges that
   * break the read-only fence from every other account. Writes no binary log; idempotent (a run that finds
   * nothing to change sends no statement).
   */
  reassertAccounts(db: Db, passwords: Passwords): Promise<AccountReassertResult>;
}
