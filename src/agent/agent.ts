/**
 * The Agent: owns the connection pool to its mysqld, the flavor adapter and the locks; each gRPC method is a
 * thin adapter over one of these methods (src/agent/rpc/). Every mutating method checks before it acts, so
 * repeating a call is safe.
 */
import { lookup } from 'node:dns/promises';
import type { Logger } from '../shared/logger.ts';
import { MocoError, failedPrecondition, invalidArgument } from '../shared/errors.ts';
import { Mutex } from '../shared/mutex.ts';
import { sleep, withTimeout } from '../shared/abort.ts';
import { parseGtid, toIntervals, validateGtidText, type Flavor } from '../gtid/index.ts';
import type { InstanceStatus } from '../generated/moco/agent/v1/InstanceStatus.ts';
import type { GtidSet } from '../generated/moco/agent/v1/GtidSet.ts';
import type { ConfigureReplicaRequest__Output } from '../generated/moco/agent/v1/ConfigureReplicaRequest.ts';
import { MysqlDb, type Db } from './db.ts';
import type { AccountReassertResult, FlavorAdapter, FlavorStatus } from './flavor/flavor.ts';
import type { Passwords } from '../shared/accounts.ts';
import { mysqlAdapter } from './flavor/mysql.ts';
import { mariadbAdapter } from './flavor/mariadb.ts';
import { killUserConnections } from './connections.ts';
import { InstanceIdReader } from './instance-id.ts';
import { readinessVerdict, type Verdict } from './readiness.ts';
import type { AgentMetrics } from './metrics.ts';
import { CloneTracker } from './clone/tracker.ts';
import { applyPendingGtid } from './clone/pending-gtid.ts';

export interface AgentOptions {
  clusterName: string;
  index: number;
  socketPath: string;
  /** mysqld's data directory (instance id file, clone staging next to it). */
  dataDir: string;
  /** The instance's my.cnf (the backup tool reads it). */
  myCnfPath: string;
  passwords: { agent: string; replication: string; cloneDonor: string };
  statusTimeoutMs: number;
  maxDelayMs: number;
  queueingWaitMs: number;
  logger: Logger;
  metrics: AgentMetrics;
}

const DEFAULT_HEARTBEAT_MS = 1000;
const DEFAULT_NET_TIMEOUT_S = 4;
const MAX_WAIT_MS = 3_600_000;

export class Agent {
  readonly options: AgentOptions;
  readonly db: MysqlDb;
  readonly clone: CloneTracker;
  private adapter: FlavorAdapter | undefined;
  private readonly topology = new Mutex();
  private readonly log: Logger;
  private readonly instanceId: InstanceIdReader;
  private readonly receiving = new ReceiveTracker();

  constructor(options: AgentOptions, db?: MysqlDb) {
    this.options = options;
    this.log = options.logger.child({ component: 'agent' });
    this.db = db ?? new MysqlDb({
      socketPath: options.socketPath, user: 'moco-agent', password: options.passwords.agent, timeoutMs: 30_000,
    });
    this.clone = new CloneTracker(options.metrics);
    this.instanceId = new InstanceIdReader(options.dataDir);
  }

  /** The flavor adapter, detected from VERSION() on first use. */
  async flavor(): Promise<FlavorAdapter> {
    if (this.adapter) return this.adapter;
    const rows = await this.db.query<{ v: string }>('SELECT VERSION() AS v', [], { timeoutMs: this.options.statusTimeoutMs });
    const version = String(rows[0]?.v ?? '');
    this.adapter = /mariadb/i.test(version) ? mariadbAdapter : mysqlAdapter;
    this.log.info({ version, flavor: this.adapter.flavor }, 'detected mysqld flavor');
    return this.adapter;
  }

  /** Reads the raw flavor status within the status timeout. */
  async readFlavorStatus(timeoutMs = this.options.statusTimeoutMs): Promise<FlavorStatus> {
    const adapter = await this.flavor();
    try {
      const st = await adapter.readStatus(this.db, { timeoutMs });
      this.options.metrics.statusChecks.inc({ result: 'ok' });
      return st;
    } catch (err) {
      this.options.metrics.statusChecks.inc({ result: 'error' });
      throw err;
    }
  }

  /** The full instance status, read live. */
  async getStatus(timeoutMs?: number): Promise<InstanceStatus> {
    const st = await this.readFlavorStatus(timeoutMs);
    // MariaDB has no server_uuid: the agent keeps an id in the data directory.
    const instanceId = st.flavor === 'mysql' ? st.serverUuid : await this.instanceId.read(st.uptimeSeconds);
    return toInstanceStatus(st, instanceId, this.clone.snapshot(), this.receiving.observe(st.replica?.receivedMarker, Date.now()));
  }

  /** The readiness verdict for /readyz; also keeps the replication-delay metric current. */
  async readiness(): Promise<Verdict> {
    const st = await this.readFlavorStatus();
    const adapter = await this.flavor();
    const delay = st.readOnly && st.replica ? await adapter.readDelay(this.db, st) : { delaySeconds: null, receivedAnything: false };
    if (delay.delaySeconds === null) this.options.metrics.replicationDelay.reset();
    else this.options.metrics.replicationDelay.set(delay.delaySeconds);
    return readinessVerdict({
      readOnly: st.readOnly,
      cloneState: this.clone.snapshot().state,
      replica: st.replica && {
        ioState: st.replica.ioState, sqlRunning: st.replica.sqlRunning,
        lastIoErrno: st.replica.lastIoErrno, lastSqlErrno: st.replica.lastSqlErrno,
      },
      delaySeconds: delay.delaySeconds,
      receivedAnything: delay.receivedAnything,
      uptimeSeconds: st.uptimeSeconds,
    }, { maxDelayMs: this.options.maxDelayMs, queueingWaitMs: this.options.queueingWaitMs });
  }

  /** Liveness: mysqld answers a trivial query. */
  async healthy(): Promise<boolean> {
    try {
      await this.db.query('SELECT 1', [], { timeoutMs: 2000 });
      return true;
    } catch {
      return false;
    }
  }

  async configurePrimary(waitForReplicaCount: number): Promise<{ changed: boolean; effectiveWaitCount: number }> {
    this.refuseWhileCloning();
    return this.topology.run(async () => {
      const adapter = await this.flavor();
      const effective = adapter.effectiveWaitCount(waitForReplicaCount);
      const st = await this.readFlavorStatus();
      const changed = await adapter.configurePrimary(this.db, effective, st);
      if (changed) this.log.info({ waitForReplicaCount, effective }, 'configured as semi-sync source');
      return { changed, effectiveWaitCount: effective };
    });
  }

  async configureReplica(req: ConfigureReplicaRequest__Output): Promise<boolean> {
    const host = req.sourceHost.trim();
    if (host === '') throw invalidArgument('source_host is empty; give the source mysqld host name or address');
    if (!Number.isInteger(req.sourcePort) || req.sourcePort < 1 || req.sourcePort > 65535) {
      throw invalidArgument(`source_port ${req.sourcePort} is not a TCP port (1-65535)`);
    }
    const user = req.user === '' ? 'moco-repl' : req.user;
    const password = req.user === '' ? this.options.passwords.replication : req.password;
    if (password === '') throw invalidArgument(`password for replication user "${user}" is empty`);
    const heartbeatPeriodMs = req.heartbeatPeriodMs || DEFAULT_HEARTBEAT_MS;
    const netTimeoutSeconds = req.netTimeoutSeconds || DEFAULT_NET_TIMEOUT_S;
    if (heartbeatPeriodMs >= netTimeoutSeconds * 1000) {
      throw invalidArgument(`heartbeat_period_ms ${heartbeatPeriodMs} must be shorter than net_timeout_seconds ${netTimeoutSeconds}`);
    }
    try {
      await lookup(host);
    } catch (err) {
      throw invalidArgument(`source_host "${host}" cannot be resolved; check the name`, { cause: err });
    }
    this.refuseWhileCloning();
    return this.topology.run(async () => {
      const adapter = await this.flavor();
      await applyPendingGtid(this.db, this.options.dataDir, this.log);
      const st = await this.readFlavorStatus();
      if (!st.readOnly) {
        throw failedPrecondition('the instance is writable; make it read-only (SetReadOnly) and kill connections before pointing it at a source');
      }
      if (st.semiSync.waitSessions > 0) {
        throw failedPrecondition(`${st.semiSync.waitSessions} session(s) still wait for semi-sync acknowledgements; kill connections first`);
      }
      const changed = await adapter.configureReplica(this.db, {
        host, port: req.sourcePort, user, password, semiSync: req.semiSync, heartbeatPeriodMs, netTimeoutSeconds,
      }, st);
      if (changed) this.log.info({ host, port: req.sourcePort, user, semiSync: req.semiSync }, 'configured as replica');
      return changed;
    });
  }

  async stopReplicaIO(): Promise<boolean> {
    const adapter = await this.flavor();
    const st = await this.readFlavorStatus();
    const changed = await adapter.stopReplicaIO(this.db, st);
    if (changed) this.log.info('stopped the replica IO thread');
    return changed;
  }

  /** Waits until `gtid` is executed here; DEADLINE_EXCEEDED after `timeoutMs`. Returns the ms waited. */
  async waitForGtid(gtid: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_WAIT_MS) {
      throw invalidArgument(`timeout_ms ${timeoutMs} is out of range; give 1 to ${MAX_WAIT_MS} ms`);
    }
    const adapter = await this.flavor();
    validateGtidText(adapter.flavor, gtid);
    const started = Date.now();
    const deadline = withTimeout(timeoutMs, signal);
    for (;;) {
      const remaining = timeoutMs - (Date.now() - started);
      if (signal?.aborted) throw new MocoError('CANCELLED', 'WaitForGtid was cancelled');
      if (remaining <= 0) break;
      const st = await this.readFlavorStatus();
      const step = Math.min(remaining, 1000);
      if (await adapter.waitForExecuted(this.db, gtid, step, st, deadline).catch((err) => {
        if (err instanceof MocoError && err.code === 'CANCELLED' && !signal?.aborted) return false;
        throw err;
      })) {
        return Date.now() - started;
      }
      if (!st.replica?.sqlRunning) await sleep(Math.min(100, Math.max(remaining, 1)), signal).catch(() => undefined);
    }
    throw new MocoError('TIMEOUT', `GTID set ${gtid} was not executed within ${timeoutMs} ms`);
  }

  async setReadOnly(): Promise<boolean> {
    const adapter = await this.flavor();
    const st = await this.readFlavorStatus();
    const changed = await adapter.setReadOnly(this.db, st);
    if (changed) this.log.info('made read-only');
    return changed;
  }

  async setWritable(): Promise<boolean> {
    this.refuseWhileCloning();
    return this.topology.run(async () => {
      const adapter = await this.flavor();
      const st = await this.readFlavorStatus();
      const changed = await adapter.setWritable(this.db, st);
      if (changed) this.log.info('made writable');
      return changed;
    });
  }

  async killConnections(): Promise<number> {
    const killed = await killUserConnections(this.db);
    if (killed > 0) this.log.info({ killed }, 'killed user connections');
    return killed;
  }

  /** Re-asserts the project's accounts with these passwords (see AccountKeeper). */
  async reassertAccounts(passwords: Passwords): Promise<AccountReassertResult> {
    const adapter = await this.flavor();
    return adapter.reassertAccounts(this.db, passwords);
  }

  /** Changes whenever mysqld restarted (or the agent's connection to it broke); see MysqlDb.connectionGeneration. */
  async mysqldGeneration(): Promise<number> {
    return this.db.connectionGeneration(this.options.statusTimeoutMs);
  }

  async flushBinlogs(): Promise<string> {
    const adapter = await this.flavor();
    return adapter.flushBinlogs(this.db);
  }

  /** The flavor, when already known (no I/O). */
  knownFlavor(): Flavor | undefined {
    return this.adapter?.flavor;
  }

  /** A database handle for collaborators (clone, donor). */
  database(): Db {
    return this.db;
  }

  private refuseWhileCloning(): void {
    if (this.clone.snapshot().state === 'in_progress') {
      throw failedPrecondition('a clone is in progress on this instance; wait until it has finished');
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

function gtidSet(flavor: Flavor, text: string): GtidSet {
  if (text === '') return { text, intervals: [] };
  return {
    text,
    intervals: toIntervals(parseGtid(flavor, text)).map((i) => ({
      uuid: i.uuid, tag: i.tag, domain: i.domain, serverId: i.serverId, start: i.start.toString(), end: i.end.toString(),
    })),
  };
}

/**
 * When the receiver last got anything from its source, as seen between this agent's status reads (about ten a
 * second while the coordinator watches): the time since the marker last changed. The first read counts as "just
 * now", so an agent that just started never calls a source silent.
 */
export class ReceiveTracker {
  private marker: string | undefined;
  private changedAt = 0;

  /** The milliseconds since the marker last changed, or undefined when there is no marker. */
  observe(marker: string | undefined, now: number): number | undefined {
    if (marker === undefined) {
      this.marker = undefined;
      return undefined;
    }
    if (marker !== this.marker) {
      this.marker = marker;
      this.changedAt = now;
    }
    return Math.max(0, now - this.changedAt);
  }
}

/** Silent: nothing from the source for more than two heartbeat periods while connected (a heartbeat is due each period). */
export function sourceSilent(ioConnected: boolean, receivedAgoMs: number | undefined, heartbeatPeriodMs: number): boolean {
  return ioConnected && receivedAgoMs !== undefined && heartbeatPeriodMs > 0 && receivedAgoMs > 2 * heartbeatPeriodMs;
}

/** Builds the API's InstanceStatus from what the adapter read (`receivedAgoMs` from the agent's ReceiveTracker). */
export function toInstanceStatus(st: FlavorStatus, instanceId: string, clone: ReturnType<CloneTracker['snapshot']>,
  receivedAgoMs?: number): InstanceStatus {
  const ioConnected = st.replica?.ioState === 'Yes';
  return {
    flavor: st.flavor,
    version: st.version,
    serverId: st.serverId,
    instanceId,
    gtidSourceId: st.gtidSourceId,
    executed: gtidSet(st.flavor, st.executed),
    purged: gtidSet(st.flavor, st.purged),
    readOnly: st.readOnly,
    semiSync: {
      sourceEnabled: st.semiSync.sourceEnabled, replicaEnabled: st.semiSync.replicaEnabled,
      waitForReplicaCount: st.semiSync.waitForReplicaCount, waitSessions: st.semiSync.waitSessions,
      sourceClients: st.semiSync.sourceClients, sourceActive: st.semiSync.sourceActive, timeoutMs: st.semiSync.timeoutMs,
    },
    connectedReplicas: st.connectedReplicas,
    replica: st.replica && {
      sourceHost: st.replica.sourceHost,
      sourcePort: st.replica.sourcePort,
      sourceUser: st.replica.sourceUser,
      ioRunning: st.replica.ioRunning,
      ioConnected,
      sqlRunning: st.replica.sqlRunning,
      ioState: st.replica.ioThreadState,
      sqlState: st.replica.sqlThreadState,
      received: gtidSet(st.flavor, st.replica.received),
      receivedReliable: st.replica.receivedReliable,
      lastIoErrno: st.replica.lastIoErrno,
      lastIoError: st.replica.lastIoError,
      lastSqlErrno: st.replica.lastSqlErrno,
      lastSqlError: st.replica.lastSqlError,
      ...(st.replica.secondsBehindSource === null ? {} : { secondsBehindSource: st.replica.secondsBehindSource }),
      semiSyncReplicaActive: st.semiSync.replicaActive,
      heartbeatPeriodMs: st.replica.heartbeatPeriodMs,
      ...(receivedAgoMs === undefined ? {} : { receivedAgoMs }),
      sourceSilent: sourceSilent(ioConnected, receivedAgoMs, st.replica.heartbeatPeriodMs),
    },
    clone,
    hasUserData: st.hasUserData,
    uptimeSeconds: st.uptimeSeconds,
    observedAtMs: Date.now(),
    ...(st.mariadb ? { mariadb: st.mariadb } : {}),
  };
}
