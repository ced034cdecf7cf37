/**
 * One cluster's control loop: observe (parallel status reads with deadlines) -> decide (pure) -> execute ->
 * observe again. Runs on a poll interval (default 1 s) and at once when an agent's status stream reports a
 * change that matters or ends (the push path that makes failure detection fast).
 */
import type { ClusterSpec } from '../api/spec.ts';
import { messageOf, type MocoError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { InstanceStatus, StatusEvent } from '../shared/agent-client.ts';
import { decide, type Decision, type DecideOptions } from './decide.ts';
import type { ClusterMetrics } from './metrics.ts';
import { cloneExternal, failover, runSteps, switchover, DEFAULT_TIMINGS, type AgentApi, type Executor, type OperationTimings, type PlatformApi } from './operations.ts';
import { statusAfter, statusStopped } from './status.ts';
import { type InstanceAddress, type InstanceView, type Observation } from './types.ts';
import { initialStatus, type ClusterStatus, type Role } from '../api/types.ts';

export interface WatchableAgent extends AgentApi {
  watchStatus(onEvent: (e: StatusEvent) => void, onEnd: (err: MocoError | undefined) => void): () => void;
}

export interface ManagerPlatform extends Omit<PlatformApi, 'setPrimaryIndex' | 'recordSemiSyncAcks'> {
  readSpec(): Promise<ClusterSpec>;
  readStatus(): Promise<ClusterStatus | undefined>;
  writeStatus(s: ClusterStatus): Promise<void>;
  readRoles(replicas: number): Promise<Role[]>;
  switchoverRequested(): Promise<boolean>;
  annotations(): Promise<{ clusteringStopped?: boolean; reconciliationStopped?: boolean }>;
  readiness(index: number): Promise<boolean>;
  address(index: number): InstanceAddress;
  agent(index: number): WatchableAgent;
  /** This cluster's passwords (for a MySQL clone from an external source). */
  passwords?(): Promise<Record<string, string>>;
}

export interface ManagerOptions {
  platform: ManagerPlatform;
  log: Logger;
  metrics: ClusterMetrics;
  pollMs?: number;
  statusTimeoutMs?: number;
  timings?: Partial<OperationTimings>;
  decide?: DecideOptions;
}

/** A clone from the external source that failed is tried again after this long (seed: every cycle). */
const CLONE_RETRY_MS = 10_000;

interface WatchEntry {
  cancel: () => void;
  signature: string;
  /** When the stream last delivered anything (heartbeats included); 0 once it ended. */
  lastEventAt: number;
  retry?: NodeJS.Timeout;
}

interface Unavailability {
  operation: 'failover' | 'switchover';
  since: number;
  from: number;
  to?: number;
}

export class ClusterManager {
  private status: ClusterStatus = initialStatus();
  private stopped = false;
  private wake: (() => void) | undefined;
  private pending = false;
  private loopDone: Promise<void> | undefined;
  private readonly watches = new Map<number, WatchEntry>();
  private primaryLostAt: number | undefined;
  private unavailable: Unavailability | undefined;
  /** After a failed clone from the external source, the next attempt waits until then. */
  private cloneRetryAt = 0;

  constructor(private readonly o: ManagerOptions) {}

  async start(): Promise<void> {
    this.status = { ...initialStatus(), ...(await this.o.platform.readStatus()) };
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watches.values()) {
      w.cancel();
      if (w.retry) clearTimeout(w.retry);
    }
    this.watches.clear();
    this.wake?.();
    await this.loopDone;
  }

  /** The status as last written. */
  current(): ClusterStatus {
    return this.status;
  }

  /** Merges `patch` into the status and writes it (the backup and restore runners' results). */
  async patchStatus(patch: Partial<ClusterStatus>): Promise<void> {
    await this.saveStatus({ ...this.status, ...patch });
  }

  trigger(reason: string): void {
    if (!this.pending) this.o.log.debug({ reason }, 'triggered');
    this.pending = true;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const pollMs = this.o.pollMs ?? 1000;
    while (!this.stopped) {
      if (!this.pending) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, pollMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
      }
      if (this.stopped) break;
      this.pending = false;
      const redo = await this.runOnce();
      if (redo) this.pending = true;
    }
  }

  /** One observation and operation. Returns true when something changed (observe again at once). */
  async runOnce(): Promise<boolean> {
    const { platform, metrics, log } = this.o;
    const started = Date.now();
    metrics.checks.inc();
    try {
      const spec = await platform.readSpec();
      this.ensureWatches(spec.replicas);
      metrics.replicas.set(spec.replicas);
      const ann = await platform.annotations();
      metrics.clusteringStopped.set(ann.clusteringStopped ? 1 : 0);
      metrics.reconciliationStopped.set(ann.reconciliationStopped ? 1 : 0);
      if (ann.clusteringStopped) {
        for (const g of [metrics.available, metrics.healthy, metrics.readyReplicas, metrics.errantReplicas]) g.set(NaN);
        await this.saveStatus(statusStopped(this.status, new Date(), !!ann.reconciliationStopped));
        return false;
      }
      const obs = await this.observe(spec);
      const d = decide(obs, this.o.decide);
      if (d.state !== this.status.state) log.info({ state: d.state, primary: d.primary, why: d.message }, 'cluster state');
      await this.saveStatus(statusAfter(this.status, d, new Date(), !!ann.reconciliationStopped));
      metrics.available.set(d.state === 'Healthy' || d.state === 'Degraded' ? 1 : 0);
      metrics.healthy.set(d.state === 'Healthy' ? 1 : 0);
      metrics.readyReplicas.set(d.syncedReplicas);
      metrics.errantReplicas.set(d.errant.length);
      this.trackPrimary(obs);
      for (const i of d.hung) {
        log.warn({ index: i }, 'sessions wait for semi-sync acks on an instance that is not the primary; killing its connections');
        await platform.agent(i).killConnections().catch((err: unknown) => log.warn({ index: i, err: messageOf(err) }, 'kill failed'));
      }
      return await this.execute(obs, d);
    } catch (err) {
      metrics.errors.inc();
      log.warn({ err: messageOf(err) }, 'clustering operation failed; retrying');
      return false;
    } finally {
      metrics.processing.observe((Date.now() - started) / 1000);
    }
  }

  private executor(obs?: Observation): Executor {
    const { platform } = this.o;
    const api: PlatformApi = {
      publishRoles: (roles) => platform.publishRoles(roles),
      clearSwitchoverRequest: () => platform.clearSwitchoverRequest(),
      event: (type, reason, message) => {
        this.o.log.info({ reason, message }, 'event');
        platform.event(type, reason, message);
      },
      setPrimaryIndex: async (index, why) => {
        await this.saveStatus({ ...this.status, currentPrimaryIndex: index });
        if (why === 'failover') this.o.metrics.failovers.inc();
        else this.o.metrics.switchovers.inc();
        if (this.unavailable) this.unavailable.to = index;
      },
      recordSemiSyncAcks: async (acks) => {
        if (this.status.semiSyncAcks !== acks) await this.saveStatus({ ...this.status, semiSyncAcks: acks });
      },
    };
    return {
      agents: (i) => platform.agent(i), addresses: (i) => platform.address(i), platform: api,
      timings: { ...DEFAULT_TIMINGS, ...this.o.timings },
      onWritable: (i) => this.writableAgain(i),
      ...(obs?.spec.replicationSource ? { external: obs.spec.replicationSource } : {}),
      ...(platform.passwords ? { passwords: () => platform.passwords!() } : {}),
    };
  }

  private async execute(obs: Observation, d: Decision): Promise<boolean> {
    const op = d.operation;
    const ex = this.executor(obs);
    switch (op.kind) {
      case 'none':
        return false;
      case 'cloneExternal': {
        if (Date.now() < this.cloneRetryAt) return false;
        this.o.log.info({ index: op.index }, 'cloning from the external source');
        try {
          await cloneExternal(ex, op.index, obs.spec.startupWaitSeconds);
        } catch (err) {
          this.cloneRetryAt = Date.now() + CLONE_RETRY_MS;
          await this.saveStatus({ ...this.status, lastCloneFailure: { time: new Date().toISOString(), message: messageOf(err) } });
          throw err;
        }
        const { lastCloneFailure: _, ...rest } = this.status;
        await this.saveStatus(rest);
        return true;
      }
      case 'configure':
        return op.steps.length > 0 && await runSteps(ex, op.steps);
      case 'switchover':
        this.unavailable = { operation: 'switchover', since: Date.now(), from: op.from };
        this.o.log.info({ from: op.from, to: op.to }, 'switchover');
        await switchover(ex, op.from, op.to, !!obs.spec.replicationSourceSecretName);
        return true;
      case 'failover': {
        this.unavailable = { operation: 'failover', since: this.primaryLostAt ?? Date.now(), from: op.from };
        this.o.log.warn({ from: op.from }, 'failover');
        const to = await failover(ex, obs, d.errant);
        this.o.log.warn({ from: op.from, to }, 'failover: new primary chosen');
        return true;
      }
    }
  }

  /** Remembers since when the primary does not answer (the start of a failover's write unavailability). */
  private trackPrimary(obs: Observation): void {
    if (obs.instances[obs.status.currentPrimaryIndex]?.status) {
      if (!this.unavailable) this.primaryLostAt = undefined;
    } else {
      this.primaryLostAt ??= Date.now();
    }
  }

  private writableAgain(index: number): void {
    const u = this.unavailable;
    if (!u || u.to !== index) return;
    const seconds = (Date.now() - u.since) / 1000;
    this.o.metrics.writeUnavailable.observe({ operation: u.operation }, seconds);
    this.o.log.info({ operation: u.operation, from: u.from, to: index, seconds }, 'writes possible again');
    this.status = { ...this.status, [u.operation === 'failover' ? 'lastFailover' : 'lastSwitchover']: {
      time: new Date().toISOString(), from: u.from, to: index, writeUnavailableSeconds: Math.round(seconds * 1000) / 1000,
    } };
    this.unavailable = undefined;
    this.primaryLostAt = undefined;
  }

  private async saveStatus(s: ClusterStatus): Promise<void> {
    this.status = s;
    await this.o.platform.writeStatus(s);
  }

  private async observe(spec: ClusterSpec): Promise<Observation> {
    const { platform } = this.o;
    const timeoutMs = this.o.statusTimeoutMs ?? 1500;
    const P = this.status.currentPrimaryIndex;
    const roles = await platform.readRoles(spec.replicas);
    // An instance whose status stream has been silent (no heartbeat) gets a short deadline: it is most likely
    // down, and waiting the full deadline would only delay the failover.
    const deadline = (i: number): number => (Date.now() - (this.watches.get(i)?.lastEventAt ?? 0) > 1500 ? Math.min(400, timeoutMs) : timeoutMs);
    const read = async (i: number): Promise<InstanceStatus | null> =>
      platform.agent(i).getStatus({ timeoutMs: deadline(i) }).catch(() => null);
    const instances: InstanceView[] = await Promise.all(Array.from({ length: spec.replicas }, async (_, i) => {
      const [status, ready] = await Promise.all([read(i), platform.readiness(i).catch(() => false)]);
      const hung = i !== P && status !== null && (status.semiSync?.waitSessions ?? 0) > 0;
      return { index: i, status, ready, role: roles[i] ?? '', address: platform.address(i), hung };
    }));
    let primaryFresh: InstanceStatus | null = null;
    if (instances[P]?.status) {
      primaryFresh = await platform.agent(P).getStatus({ timeoutMs: deadline(P) });
    }
    return { spec, status: this.status, instances, primaryFresh, switchoverRequested: await platform.switchoverRequested() };
  }

  /** One status stream per instance: a change that matters, or the stream ending, triggers an observation. */
  private ensureWatches(replicas: number): void {
    for (let i = 0; i < replicas; i++) if (!this.watches.has(i)) this.watch(i);
  }

  private watch(index: number, reconnect = false): void {
    if (this.stopped) return;
    const entry: WatchEntry = { cancel: () => undefined, signature: '', lastEventAt: reconnect ? 0 : Date.now() };
    this.watches.set(index, entry);
    entry.cancel = this.o.platform.agent(index).watchStatus((e) => {
      entry.lastEventAt = Date.now();
      if (!e.status) return;
      const sig = signature(e.status);
      if (sig !== entry.signature) {
        entry.signature = sig;
        this.trigger(`instance ${index} changed`);
      }
    }, (err) => {
      if (this.stopped) return;
      entry.lastEventAt = 0;
      if (index === this.status.currentPrimaryIndex) this.primaryLostAt ??= Date.now();
      this.trigger(`status stream of instance ${index} ended: ${err ? err.message : 'closed'}`);
      entry.signature = '';
      entry.retry = setTimeout(() => this.watch(index, true), 500);
    });
  }
}

/** The parts of a status whose change may need an operation. */
function signature(s: InstanceStatus): string {
  const r = s.replica;
  return [s.readOnly, r?.ioState, r?.sqlRunning, r?.sourcePort, (s.semiSync?.waitSessions ?? 0) > 0, s.clone?.state,
    s.connectedReplicas.length, s.instanceId].join('|');
}
