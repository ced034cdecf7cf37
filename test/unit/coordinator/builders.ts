/**
 * Small builders of what the coordinator observes (InstanceStatus, InstanceView, ClusterSpec, Observation), for
 * the decide and operations tests. Instance i has server id 10 + i, listens on 127.0.0.1:13306 + i (every
 * instance shares the host, so only the port tells them apart) and, on MySQL, has the server uuid `uuidOf(i)`.
 */
import type { ClusterSpec } from '../../../src/api/spec.ts';
import type { Flavor } from '../../../src/gtid/index.ts';
import type { ReplicaStatus__Output } from '../../../src/generated/moco/agent/v1/ReplicaStatus.ts';
import type { SemiSyncStatus__Output } from '../../../src/generated/moco/agent/v1/SemiSyncStatus.ts';
import { type InstanceAddress, type InstanceStatus, type InstanceView, type Observation } from '../../../src/coordinator/types.ts';
import { initialStatus, type ClusterStatus, type Role } from '../../../src/api/types.ts';

export const SERVER_ID_BASE = 10;

/** The MySQL server uuid of instance `index` (a foreign writer uses {@link FOREIGN_UUID}). */
export function uuidOf(index: number): string {
  return `3e11fa47-71ca-11e1-9e33-c80aa94295${(0x10 + index).toString(16).padStart(2, '0')}`;
}

/** A uuid that is no instance's: transactions from it on a replica are errant. */
export const FOREIGN_UUID = '2174b383-5441-11e8-b90a-c80aa9429562';

/** MySQL GTID text `uuidOf(index):1-n` (or `:1` when n is 1); '' when n is 0. */
export function mysqlGtid(index: number, n: number): string {
  if (n === 0) return '';
  return n === 1 ? `${uuidOf(index)}:1` : `${uuidOf(index)}:1-${n}`;
}

export function addressOf(index: number): InstanceAddress {
  return { host: '127.0.0.1', port: 13306 + index, agent: `127.0.0.1:${19000 + index}` };
}

export interface ReplicaOptions {
  /** The instance it replicates from (its address); sourceHost/sourcePort override. Default 0. */
  from?: number;
  sourceHost?: string;
  sourcePort?: number;
  /** The receiver's connection: Yes (connected), Connecting, No (stopped). */
  ioState?: 'Yes' | 'Connecting' | 'No';
  sqlRunning?: boolean;
  received?: string;
  receivedReliable?: boolean;
  secondsBehindSource?: number;
  /** Connected, but nothing from the source for more than two heartbeat periods (a hung source, a cut path). */
  silent?: boolean;
}

export function replicaStatus(o: ReplicaOptions = {}): ReplicaStatus__Output {
  const src = addressOf(o.from ?? 0);
  const ioState = o.ioState ?? 'Yes';
  const r: ReplicaStatus__Output = {
    sourceHost: o.sourceHost ?? src.host,
    sourcePort: o.sourcePort ?? src.port,
    sourceUser: 'moco-repl',
    ioRunning: ioState !== 'No',
    ioConnected: ioState === 'Yes',
    sqlRunning: o.sqlRunning ?? true,
    ioState: ioState === 'Yes' ? 'Waiting for master to send event' : ioState === 'Connecting' ? 'Connecting to master' : '',
    sqlState: '',
    received: { text: o.received ?? '', intervals: [] },
    receivedReliable: o.receivedReliable ?? true,
    lastIoErrno: 0,
    lastIoError: '',
    lastSqlErrno: 0,
    lastSqlError: '',
    semiSyncReplicaActive: ioState === 'Yes',
    heartbeatPeriodMs: 1000,
    sourceSilent: o.silent ?? false,
  };
  if (o.secondsBehindSource !== undefined) r.secondsBehindSource = o.secondsBehindSource;
  return r;
}

export interface StatusOptions {
  /** The instance this status belongs to (server id, uuid). Default 0. */
  index?: number;
  flavor?: Flavor;
  /** Default: MySQL `uuidOf(index)`, MariaDB the server id as a decimal string. */
  gtidSourceId?: string;
  executed?: string;
  purged?: string;
  /** Default true (a fresh instance starts read-only). */
  readOnly?: boolean;
  replica?: ReplicaOptions | null;
  semiSync?: Partial<SemiSyncStatus__Output>;
  /** SHOW REPLICAS rows, by server id. */
  connectedReplicas?: number[];
  hasUserData?: boolean;
  /** Sessions waiting for semi-sync acknowledgements. */
  waitSessions?: number;
  /** clone_status state ('' none, 'in_progress', 'completed', 'failed'). */
  cloneState?: string;
}

/** A status as the agent reports it: MySQL, read-only, empty, no replication and semi-sync off unless told. */
export function status(o: StatusOptions = {}): InstanceStatus {
  const index = o.index ?? 0;
  const flavor = o.flavor ?? 'mysql';
  const serverId = SERVER_ID_BASE + index;
  const executed = o.executed ?? '';
  return {
    flavor,
    version: flavor === 'mysql' ? '8.4.4' : '10.11.10-MariaDB',
    serverId,
    instanceId: `instance-${index}`,
    gtidSourceId: o.gtidSourceId ?? (flavor === 'mysql' ? uuidOf(index) : String(serverId)),
    executed: { text: executed, intervals: [] },
    purged: { text: o.purged ?? '', intervals: [] },
    readOnly: o.readOnly ?? true,
    semiSync: {
      sourceEnabled: false, replicaEnabled: false, waitForReplicaCount: 1, waitSessions: o.waitSessions ?? 0,
      sourceClients: 0, sourceActive: false, timeoutMs: '86400000',
      ...o.semiSync,
    },
    connectedReplicas: (o.connectedReplicas ?? []).map((id) => ({ serverId: id, host: '127.0.0.1', port: 13306 + id - SERVER_ID_BASE })),
    replica: o.replica ? replicaStatus(o.replica) : null,
    clone: o.cloneState ? { state: o.cloneState, phase: '', bytesTransferred: '0', startedAtMs: 0, finishedAtMs: 0, error: '', donor: '' } : null,
    hasUserData: o.hasUserData ?? executed !== '',
    uptimeSeconds: 100,
    observedAtMs: 0,
    mariadb: null,
  };
}

/** Semi-sync as configurePrimary leaves it on a primary waiting for `acks` acknowledgements. */
export function semiSyncSource(acks: number): Partial<SemiSyncStatus__Output> {
  return { sourceEnabled: true, replicaEnabled: false, waitForReplicaCount: acks, sourceActive: true };
}

/** Semi-sync as configureReplica leaves it on a replica. */
export const SEMI_SYNC_REPLICA: Partial<SemiSyncStatus__Output> = { sourceEnabled: false, replicaEnabled: true };

export interface ViewOptions {
  ready?: boolean;
  role?: Role;
  hung?: boolean;
  address?: InstanceAddress;
}

/** One observed instance; ready by default (like the seed's Pods), no role unless told. */
export function view(index: number, st: InstanceStatus | null, o: ViewOptions = {}): InstanceView {
  const v: InstanceView = { index, status: st, ready: o.ready ?? true, role: o.role ?? '', address: o.address ?? addressOf(index) };
  if (o.hung !== undefined) v.hung = o.hung;
  return v;
}

/** A cluster spec with the defaults documented in src/cluster/spec.ts. */
export function spec(o: Partial<ClusterSpec> = {}): ClusterSpec {
  return {
    name: 't', namespace: 'default', replicas: 3, offline: false, serverIdBase: SERVER_ID_BASE,
    maxDelaySeconds: 60, maxDelaySecondsForPodDeletion: 0, startupWaitSeconds: 3600, mycnf: {},
    ...o,
  };
}

export interface ObservationOptions {
  spec?: Partial<ClusterSpec>;
  status?: Partial<ClusterStatus>;
  /** Default: the primary's status as observed (null when it does not answer). */
  primaryFresh?: InstanceStatus | null;
  switchoverRequested?: boolean;
}

/** An observation of `instances`; spec.replicas defaults to their number. */
export function observation(instances: InstanceView[], o: ObservationOptions = {}): Observation {
  const st: ClusterStatus = { ...initialStatus(), ...o.status };
  const primary = instances[st.currentPrimaryIndex];
  const fresh = o.primaryFresh !== undefined ? o.primaryFresh : primary?.status ?? null;
  return {
    spec: spec({ replicas: instances.length, ...o.spec }),
    status: st,
    instances,
    primaryFresh: fresh,
    switchoverRequested: o.switchoverRequested ?? false,
  };
}

// ---- Typical instances -------------------------------------------------------------------------------------

/** A configured primary `index` of an `replicas`-instance cluster: writable, semi-sync on, every replica connected. */
export function primaryStatus(index: number, replicas: number, o: StatusOptions = {}): InstanceStatus {
  const connected = Array.from({ length: replicas }, (_, i) => SERVER_ID_BASE + i).filter((id) => id !== SERVER_ID_BASE + index);
  return status({
    index, executed: mysqlGtid(index, 4), readOnly: false, connectedReplicas: connected,
    semiSync: replicas > 1 ? semiSyncSource(Math.floor(replicas / 2)) : {}, ...o,
  });
}

/** A configured replica `index` of primary `from`: read-only, replicating (IO Yes), semi-sync replica on. */
export function replicaOfStatus(index: number, from: number, o: StatusOptions = {}): InstanceStatus {
  return status({
    index, executed: mysqlGtid(from, 3), readOnly: true, replica: { from }, semiSync: SEMI_SYNC_REPLICA, ...o,
  });
}
