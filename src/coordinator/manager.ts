/**
 * One cluster's control loop: observe (parallel status reads with deadlines) -> decide (pure) -> execute ->
 * observe again. Runs on a poll interval (default 1 s) and at once when an agent's status stream reports a
 * change that matters or ends (the push path that makes failure detection fast), or when an operation changed
 * something (redo). Everything it needs from where it runs goes through the platform port (platform.ts); time
 * comes from an injected clock.
 *
 * Status: read every cycle (decide's inputs, such as currentPrimaryIndex, come from the stored status, so a
 * restarted manager resumes where the last one stopped, and the backup side's restoredTime is seen); only the
 * coordinator's own fields are patched, only when they changed, against the version read (a conflict with the
 * backup side's write is re-read and retried).
 */
import type { ClusterSpec } from '../api/spec.ts';
import type { ClusterStatus } from '../api/types.ts';
import type { InstanceStatus } from '../shared/agent-client.ts';
import { systemClock, type Clock, type Timer } from '../shared/clock.ts';
import { MocoError, messageOf } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { Backoff, type BackoffOptions } from '../shared/retry.ts';
import { decide, type Decision, type DecideOptions } from './decide.ts';
import type { ClusterMetrics } from './metrics.ts';
import { cloneExternal, failover, runSteps, switchover, DEFAULT_TIMINGS, type Executor, type OperationTimings } from './operations.ts';
import type { ClusterPlatform, StatusPatch } from './platform.ts';
import { statusAfter, statusStopped } from './status.ts';
import { CoordinatorStatusWriter } from './status-writer.ts';
import type { InstanceView, Observation } from './types.ts';

export interface ManagerOptions {
  platform: ClusterPlatform;
  log: Logger;
  /** This cluster's series (CoordinatorMetrics.forCluster); removed when the manager stops. */
  metrics: ClusterMetrics;
  clock?: Clock;
  pollMs?: number;
  /** Deadline of a status read (an instance whose stream is silent gets at most 400 ms). */
  statusTimeoutMs?: number;
  timings?: Partial<OperationTimings>;
  decide?: DecideOptions;
  /** After a failed clone from the external source (seed: every cycle; here 10 s). */
  cloneRetry?: BackoffOptions;
  /** Reconnecting an agent's status stream that ended. */
  watchRetry?: BackoffOptions;
}

const CLONE_RETRY: BackoffOptions = { initialMs: 10_000, maxMs: 10_000, jitter: 0.1 };
const WATCH_RETRY: BackoffOptions = { initialMs: 500, maxMs: 2000, factor: 2, jitter: 0.2 };

interface WatchEntry {
  cancel: () => void;
  signature: string;
  /** When the stream last delivered anything (heartbeats included); 0 once it ended. */
  lastEventAt: number;
  retry?: Timer;
}

interface Unavailability {
  operation: 'failover' | 'switchover';
  since: number;
  from: number;
  to?: number;
}

export class ClusterManager {
  private readonly clock: Clock;
  /** The status as last read or written, and the coordinator's writes of it. */
  private readonly status: CoordinatorStatusWriter;
  private spec: ClusterSpec | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private pending = false;
  private loopDone: Promise<void> | undefined;
  private readonly watches = new Map<number, WatchEntry>();
  private readonly watchBackoff = new Map<number, Backoff>();
  private primaryLostAt: number | undefined;
  private unavailable: Unavailability | undefined;
  /** After a failed clone from the external source, the next attempt waits until then. */
  private cloneRetryAt = 0;
  private readonly cloneBackoff: Backoff;
  /** Coordinator fields to write after the operation (lastFailover / lastSwitchover). */
  private afterOperation: StatusPatch<'coordinator'> | undefined;
  /** Why each instance could not be observed (logged when it changes). */
  private readonly unobserved = new Map<number, string>();
  private beats: Promise<void> = Promise.resolve();
  private readonly ex: Executor;

  constructor(private readonly o: ManagerOptions) {
    this.clock = o.clock ?? systemClock;
    this.status = new CoordinatorStatusWriter(o.platform, this.clock);
    this.cloneBackoff = new Backoff(o.cloneRetry ?? CLONE_RETRY);
    this.ex = this.executor();
  }

  /** Reads the stored status (a restarted manager resumes from it) and starts the loop. */
  async start(): Promise<void> {
    await this.status.refresh();
    this.loopDone = this.loop();
  }

  /** Stops the loop after the cycle in progress, closes the status streams and removes the cluster's metrics. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watches.values()) {
      w.cancel();
      w.retry?.cancel();
    }
    this.watches.clear();
    this.wake?.();
    await this.loopDone;
    await this.beats;
    this.o.metrics.remove();
  }

  /** The status as last read or written. */
  current(): ClusterStatus {
    return this.status.stored;
  }

  private get stored(): ClusterStatus {
    return this.status.stored;
  }

  /** Runs a cycle at once (a stream event, a request, a spec change); triggers while one runs collapse into one. */
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
          const t = this.clock.setTimer(resolve, pollMs);
          this.wake = () => {
            t.cancel();
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
    const started = this.clock.now();
    metrics.checks.inc();
    this.status.beginCycle();
    let beat: Promise<void> | undefined;
    try {
      const spec = await platform.readSpec();
      this.spec = spec;
      this.ensureWatches(spec.replicas);
      metrics.replicas.set(spec.replicas);
      const [ann] = await Promise.all([platform.readAnnotations(), this.status.refresh()]);
      metrics.clusteringStopped.set(ann.clusteringStopped ? 1 : 0);
      metrics.reconciliationStopped.set(ann.reconciliationStopped ? 1 : 0);
      this.exportBackup();
      if (ann.clusteringStopped) {
        for (const g of [metrics.available, metrics.healthy, metrics.readyReplicas, metrics.errantReplicas]) g.set(NaN);
        const now = new Date(this.clock.now());
        beat = this.heartbeatAfter(this.status.update(statusStopped(this.stored, now, !!ann.reconciliationStopped)), now);
        await this.status.settle();
        return false;
      }
      const obs = await this.observe(spec);
      const observedAt = new Date(this.clock.now());
      const d = decide(obs, this.o.decide);
      if (d.state !== this.stored.state) log.info({ state: d.state, primary: d.primary, why: d.message }, 'cluster state');
      // Written while the operation runs (a failover does not wait for the state Failed to be stored: it goes with
      // the new primary's index, see status-writer.ts). The heartbeat follows the write, so that a heartbeat newer
      // than a moment means the status reflects an observation since.
      beat = this.heartbeatAfter(this.status.update(statusAfter(this.stored, d, observedAt, !!ann.reconciliationStopped)), observedAt);
      metrics.available.set(d.state === 'Healthy' || d.state === 'Degraded' ? 1 : 0);
      metrics.healthy.set(d.state === 'Healthy' ? 1 : 0);
      metrics.readyReplicas.set(d.syncedReplicas);
      metrics.errantReplicas.set(d.errant.length);
      this.trackPrimary(obs);
      for (const i of d.hung) {
        log.warn({ index: i }, 'sessions wait for semi-sync acks on an instance that is not the primary; killing its connections');
        await platform.agent(i).killConnections().catch((err: unknown) => log.warn({ index: i, err: messageOf(err) }, 'kill failed'));
      }
      let redo: boolean;
      try {
        redo = await this.execute(obs, d);
      } finally {
        const patch = this.afterOperation;
        this.afterOperation = undefined;
        if (patch) void this.status.write(patch).catch(() => undefined);
      }
      await this.status.settle();
      return redo;
    } catch (err) {
      metrics.errors.inc();
      log.warn({ err: messageOf(err) }, 'clustering operation failed; retrying');
      return false;
    } finally {
      await this.status.settle().catch(() => undefined);
      // The heartbeat is not waited for: the next cycle (after a failover, the one that makes the new primary
      // writable) need not wait for a file write. Heartbeats stay in order.
      if (beat) this.beats = this.beats.then(() => beat);
      metrics.processing.observe((this.clock.now() - started) / 1000);
    }
  }

  /** The executor of every operation of this manager (built once: it reads the spec as last read). */
  private executor(): Executor {
    const { platform, log, metrics } = this.o;
    return {
      agents: (i) => platform.agent(i),
      addresses: (i) => platform.address(i),
      platform: {
        publishRoles: (roles) => platform.publishRoles(roles),
        clearSwitchoverRequest: () => platform.clearSwitchoverRequest(),
        event: (type, reason, message) => {
          log.info({ reason, message }, 'event');
          platform.event(type, reason, message);
        },
        setPrimaryIndex: async (index, why) => {
          await this.status.write({ currentPrimaryIndex: index });
          if (why === 'failover') metrics.failovers.inc();
          else metrics.switchovers.inc();
          if (this.unavailable) this.unavailable.to = index;
        },
        recordSemiSyncAcks: async (acks) => {
          if (this.stored.semiSyncAcks !== acks) await this.status.write({ semiSyncAcks: acks });
        },
        prepareCommit: () => platform.willPatch?.(),
      },
      timings: { ...DEFAULT_TIMINGS, ...this.o.timings },
      onWritable: (i) => this.writableAgain(i),
      external: () => this.spec?.replicationSource,
      passwords: () => platform.passwords(),
      sleep: (ms) => this.clock.sleep(ms),
    };
  }

  private async execute(obs: Observation, d: Decision): Promise<boolean> {
    const op = d.operation;
    const ex = this.ex;
    switch (op.kind) {
      case 'none':
        return false;
      case 'cloneExternal': {
        if (this.clock.now() < this.cloneRetryAt) return false;
        this.o.log.info({ index: op.index }, 'cloning from the external source');
        try {
          await cloneExternal(ex, op.index, obs.spec.startupWaitSeconds);
        } catch (err) {
          const delay = this.cloneBackoff.next();
          this.cloneRetryAt = this.clock.now() + delay;
          this.o.log.warn({ err: messageOf(err), retryInMs: delay }, 'clone from the external source failed');
          await this.status.write({ lastCloneFailure: { time: new Date(this.clock.now()).toISOString(), message: messageOf(err) } });
          throw err;
        }
        this.cloneBackoff.reset();
        this.cloneRetryAt = 0;
        if (this.stored.lastCloneFailure) await this.status.write({ lastCloneFailure: undefined });
        return true;
      }
      case 'configure':
        return op.steps.length > 0 && await runSteps(ex, op.steps);
      case 'switchover':
        this.unavailable = { operation: 'switchover', since: this.clock.now(), from: op.from };
        this.o.log.info({ from: op.from, to: op.to }, 'switchover');
        await switchover(ex, op.from, op.to, obs.instances.map((i) => i.role), !!obs.spec.replicationSourceSecretName);
        return true;
      case 'failover': {
        this.unavailable = { operation: 'failover', since: this.primaryLostAt ?? this.clock.now(), from: op.from };
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
      this.primaryLostAt ??= this.clock.now();
    }
  }

  private writableAgain(index: number): void {
    const u = this.unavailable;
    if (!u || u.to !== index) return;
    const now = this.clock.now();
    const seconds = (now - u.since) / 1000;
    this.o.metrics.writeUnavailable.observe({ operation: u.operation }, seconds);
    this.o.log.info({ operation: u.operation, from: u.from, to: index, seconds }, 'writes possible again');
    this.afterOperation = { ...this.afterOperation, [u.operation === 'failover' ? 'lastFailover' : 'lastSwitchover']: {
      time: new Date(now).toISOString(), from: u.from, to: index, writeUnavailableSeconds: Math.round(seconds * 1000) / 1000,
    } };
    this.unavailable = undefined;
    this.primaryLostAt = undefined;
  }

  /** moco_backup_* from status.backup, once a backup exists (the seed's manager does the same). */
  private exportBackup(): void {
    const b = this.stored.backup;
    if (!b?.time) return;
    const m = this.o.metrics;
    m.backupTimestamp.set(Date.parse(b.time) / 1000);
    m.backupElapsed.set(Number.parseFloat(b.elapsed ?? '0'));
    m.backupDumpBytes.set(b.dumpSize ?? 0);
    m.backupBinlogBytes.set(b.binlogSize ?? 0);
    m.backupWorkDirUsage.set(b.workDirUsage ?? 0);
    m.backupWarnings.set(b.warnings?.length ?? 0);
  }

  /** Records the heartbeat for `observedAt` once `written` says the status of that observation is stored. */
  private async heartbeatAfter(written: Promise<boolean>, observedAt: Date): Promise<void> {
    if (!await written) return;
    try {
      await this.o.platform.heartbeat(observedAt);
    } catch (err) {
      this.o.log.warn({ err: messageOf(err) }, 'cannot record the heartbeat');
    }
  }

  private async observe(spec: ClusterSpec): Promise<Observation> {
    const { platform, log } = this.o;
    const timeoutMs = this.o.statusTimeoutMs ?? 1500;
    const P = this.stored.currentPrimaryIndex;
    const roles = await platform.readRoles(spec.replicas);
    // An instance whose status stream has been silent (no heartbeat) gets a short deadline: it is most likely
    // down, and waiting the full deadline would only delay the failover.
    const deadline = (i: number): number =>
      (this.clock.now() - (this.watches.get(i)?.lastEventAt ?? 0) > 1500 ? Math.min(400, timeoutMs) : timeoutMs);
    const read = async (i: number): Promise<{ status: InstanceStatus | null; why?: string }> => {
      try {
        return { status: await platform.agent(i).getStatus({ timeoutMs: deadline(i) }) };
      } catch (err) {
        return { status: null, why: err instanceof MocoError ? `${err.code}: ${err.message}` : messageOf(err) };
      }
    };
    const instances: InstanceView[] = await Promise.all(Array.from({ length: spec.replicas }, async (_, i) => {
      const [r, ready] = await Promise.all([read(i), platform.readiness(i).catch(() => false)]);
      const hung = i !== P && r.status !== null && (r.status.semiSync?.waitSessions ?? 0) > 0;
      const v: InstanceView = { index: i, status: r.status, ready, role: roles[i] ?? '', address: platform.address(i), hung };
      if (r.why !== undefined) v.unobserved = r.why;
      return v;
    }));
    for (const v of instances) {
      const before = this.unobserved.get(v.index);
      // Logged when the kind of failure changes, not every cycle (messages carry varying details such as deadlines).
      const kind = v.unobserved?.split(':')[0];
      if (v.unobserved !== undefined && kind !== before?.split(':')[0]) log.warn({ index: v.index, why: v.unobserved }, 'instance cannot be observed');
      if (v.unobserved === undefined && before !== undefined) log.info({ index: v.index }, 'instance answers again');
      if (v.unobserved === undefined) this.unobserved.delete(v.index);
      else this.unobserved.set(v.index, v.unobserved);
    }
    let primaryFresh: InstanceStatus | null = null;
    if (instances[P]?.status) {
      primaryFresh = await platform.agent(P).getStatus({ timeoutMs: deadline(P) });
    }
    return { spec, status: this.stored, instances, primaryFresh, switchoverRequested: await platform.switchoverRequested() };
  }

  /** Why each instance that did not answer the last observation could not be read (empty when all answered). */
  unobservedInstances(): ReadonlyMap<number, string> {
    return this.unobserved;
  }

  /** One status stream per instance: a change that matters, or the stream ending, triggers an observation. */
  private ensureWatches(replicas: number): void {
    for (let i = 0; i < replicas; i++) if (!this.watches.has(i)) this.watch(i);
  }

  private watch(index: number, reconnect = false): void {
    if (this.stopped) return;
    const backoff = this.watchBackoff.get(index) ?? new Backoff(this.o.watchRetry ?? WATCH_RETRY);
    this.watchBackoff.set(index, backoff);
    const entry: WatchEntry = { cancel: () => undefined, signature: '', lastEventAt: reconnect ? 0 : this.clock.now() };
    this.watches.set(index, entry);
    entry.cancel = this.o.platform.agent(index).watchStatus((e) => {
      entry.lastEventAt = this.clock.now();
      backoff.reset(); // the stream works: the next reconnect starts from the shortest delay
      if (!e.status) return;
      const sig = signature(e.status);
      if (sig !== entry.signature) {
        entry.signature = sig;
        this.trigger(`instance ${index} changed`);
      }
    }, (err) => {
      if (this.stopped) return;
      entry.lastEventAt = 0;
      if (index === this.stored.currentPrimaryIndex) this.primaryLostAt ??= this.clock.now();
      this.trigger(`status stream of instance ${index} ended: ${err ? err.message : 'closed'}`);
      entry.signature = '';
      entry.retry = this.clock.setTimer(() => this.watch(index, true), backoff.next());
    });
  }
}

/** The parts of a status whose change may need an operation. */
function signature(s: InstanceStatus): string {
  const r = s.replica;
  return [s.readOnly, r?.ioState, r?.sqlRunning, r?.sourcePort, (s.semiSync?.waitSessions ?? 0) > 0, s.clone?.state,
    s.connectedReplicas.length, s.instanceId].join('|');
}
