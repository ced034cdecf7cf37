/**
 * Backups and restores of a local cluster, run by its coordinator process: the BackupPolicy's schedule (UTC),
 * `moco backup` requests (a file in requests/, progress and outcome in backup-run.json), and the restore of a
 * cluster created with spec.restore (while it is Restoring). Results go into the cluster's status (only the
 * backup side's fields, patched through a StatusStore of its own, as a backup Job on Kubernetes would), events and
 * the moco_backup_* metrics (the gauges come from status.backup, exported by the cluster's manager).
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ClusterSpec } from '../../api/spec.ts';
import type { ClusterMetrics } from '../../coordinator/metrics.ts';
import { updateStatus, type StatusPatch, type StatusStore } from '../../coordinator/platform.ts';
import type { ClusterStatus } from '../../api/types.ts';
import { parseSchedule } from '../../api/cron.ts';
import { bucketTarget, defaultBackupTarget } from '../../backup/policy-target.ts';
import { runClusterBackup, runClusterRestore, type BackupStatus, type RunnerAgent } from '../../backup/runner.ts';
import { ensureDirectory, openBucket } from '../../backup/storage/index.ts';
import type { BucketTarget } from '../../backup/storage/types.ts';
import { failedPrecondition, messageOf } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { Backoff } from '../../shared/retry.ts';
import { loadPasswords } from '../../shared/accounts.ts';
import { writeJsonAtomic, type ClusterDir } from './state.ts';

/** backup-run.json: what `moco backup` follows. */
export interface BackupRunFile {
  id: string;
  trigger: 'request' | 'schedule';
  state: 'running' | 'succeeded' | 'failed' | 'cancelled';
  phase?: string;
  bytes?: number;
  sourceIndex?: number;
  startedAt: string;
  finishedAt?: string;
  location?: string;
  manifestKey?: string;
  status?: BackupStatus;
  error?: string;
}

export interface BackupServiceOptions {
  dir: ClusterDir;
  /** Where the backup side reads the status and writes its own fields (backup, lastBackupFailure, restoredTime, restore). */
  status: StatusStore;
  metrics: ClusterMetrics;
  agent(index: number): RunnerAgent;
  ready(index: number): Promise<boolean>;
  log: Logger;
  /** First retry delay of a failed scheduled backup (doubling); default 10 s. */
  retryBaseMs?: number;
  /** Called once a restore finished (the manager observes at once instead of at its next poll). */
  onRestored?: () => void;
}

const RESTORE_RETRY_MS = 30_000;

/** Where a cluster's backups go: its BackupPolicy's bucket, else `<state dir>/backups`. */
export function backupTargetOf(spec: ClusterSpec, stateRoot: string): BucketTarget {
  return spec.backupPolicy ? bucketTarget(spec.backupPolicy.jobConfig, stateRoot) : defaultBackupTarget(stateRoot);
}

export class BackupService {
  private running: { id: string; abort: AbortController; done: Promise<void> } | undefined;
  private restoring = false;
  /** When the next restore attempt may start (RESTORE_RETRY_MS after the start of a failed one). */
  private restoreAt = 0;
  private readonly restoreBackoff = new Backoff({ initialMs: RESTORE_RETRY_MS });
  /** Delays between retries of a failed scheduled backup (10 s, 20 s, ...); reset when a new scheduled run starts. */
  private readonly scheduleBackoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private nextDue: Date | undefined;
  private scheduleText = '';
  private retry: { at: number; attempt: number } | undefined;
  private restoreAbort: AbortController | undefined;
  private stopped = false;

  constructor(private readonly o: BackupServiceOptions) {
    this.scheduleBackoff = new Backoff({ initialMs: o.retryBaseMs ?? 10_000, maxMs: Number.MAX_SAFE_INTEGER, factor: 2 });
  }

  private async status(): Promise<ClusterStatus> {
    return (await this.o.status.readStatus()).status;
  }

  /** Patches the backup side's fields, computed from the status as stored (re-read and recomputed on a conflict). */
  private patch(compute: (current: ClusterStatus) => StatusPatch<'backup'> | undefined): Promise<ClusterStatus> {
    return updateStatus(this.o.status, 'backup', compute);
  }

  private get stateRoot(): string {
    return this.o.dir.dir;
  }

  start(): void {
    const tick = (): void => void this.tick().catch((err: unknown) => this.o.log.warn({ err: messageOf(err) }, 'backup service tick failed'));
    this.timer = setInterval(tick, 1000);
    tick();
  }

  /** Resolves when no backup runs (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running.done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.running?.abort.abort();
    // The agent finishes a restore whose data swap has begun even when this call goes away.
    this.restoreAbort?.abort();
    await this.running?.done;
  }

  private ticking: Promise<void> | undefined;

  /** Requests, the schedule and a pending restore; called every second and when requests/ changes. */
  async tick(): Promise<void> {
    // One pass at a time: two passes reading the same request file would start two backups.
    while (this.ticking) await this.ticking;
    if (this.stopped) return;
    this.ticking = (async () => {
      const spec = await this.o.dir.readSpec();
      const status = await this.status();
      await this.handleCancel();
      await this.handleRequest(spec);
      this.handleSchedule(spec, status);
      this.handleRestore(spec, status);
    })().finally(() => {
      this.ticking = undefined;
    });
    await this.ticking;
  }

  private async handleRequest(spec: ClusterSpec): Promise<void> {
    const text = await fs.readFile(this.o.dir.backupRequestFile, 'utf8').catch(() => undefined);
    if (text === undefined) return;
    if (this.running) return; // the request waits for the running backup
    let id: string;
    try {
      id = String((JSON.parse(text) as { id?: unknown }).id ?? randomUUID());
    } catch {
      return; // being written (requests are renamed into place, so only a foreign writer gets here); next tick
    }
    await fs.rm(this.o.dir.backupRequestFile, { force: true });
    this.startBackup(spec, id, 'request');
  }

  private async handleCancel(): Promise<void> {
    const text = await fs.readFile(this.o.dir.backupCancelFile, 'utf8').catch(() => undefined);
    if (text === undefined) return;
    await fs.rm(this.o.dir.backupCancelFile, { force: true });
    if (this.running && (text.trim() === '' || text.includes(this.running.id))) {
      this.o.log.info({ id: this.running.id }, 'backup cancelled on request');
      this.running.abort.abort();
    }
  }

  private handleSchedule(spec: ClusterSpec, status: ClusterStatus): void {
    const policy = spec.backupPolicy;
    if (!policy || spec.offline || spec.restore && !status.restoredTime) {
      this.nextDue = undefined;
      return;
    }
    const now = new Date();
    if (policy.schedule !== this.scheduleText || !this.nextDue) {
      this.scheduleText = policy.schedule;
      this.nextDue = parseSchedule(policy.schedule).next(now);
      this.o.log.info({ schedule: policy.schedule, next: this.nextDue.toISOString() }, 'next scheduled backup');
    }
    if (this.retry && now.getTime() >= this.retry.at && !this.running && now < this.nextDue) {
      const attempt = this.retry.attempt;
      this.retry = undefined;
      this.o.log.info({ attempt }, 'retrying the failed scheduled backup');
      this.startBackup(spec, randomUUID(), 'schedule', attempt);
      return;
    }
    if (now < this.nextDue) return;
    this.nextDue = parseSchedule(policy.schedule).next(now);
    this.retry = undefined;
    if (this.running) {
      if (policy.concurrencyPolicy === 'Replace') {
        this.o.log.info('a scheduled backup replaces the running one (concurrencyPolicy Replace)');
        this.running.abort.abort();
      } else {
        this.event('Warning', 'BackupSkipped', 'a scheduled backup was skipped: the previous one is still running');
        return;
      }
    }
    void (async () => {
      await this.running?.done;
      this.startBackup(spec, randomUUID(), 'schedule');
    })();
  }

  /**
   * Starts a backup. Scheduled ones follow the policy like the seed system's Job: `activeDeadlineSeconds` bounds
   * a run, and a failed run is retried with a doubling delay (10 s, 20 s, ...) up to `backoffLimit` times
   * (default 6) unless the next scheduled time comes first.
   */
  private startBackup(spec: ClusterSpec, id: string, trigger: BackupRunFile['trigger'], attempt = 0): void {
    const abort = new AbortController();
    const policy = spec.backupPolicy;
    const deadline = trigger === 'schedule' && policy?.activeDeadlineSeconds !== undefined
      ? setTimeout(() => abort.abort(new Error(`the backup ran longer than activeDeadlineSeconds (${policy.activeDeadlineSeconds} s)`)),
        policy.activeDeadlineSeconds * 1000)
      : undefined;
    if (trigger === 'schedule' && attempt === 0) this.scheduleBackoff.reset();
    const done = this.backup(spec, id, trigger, abort.signal).then((ok) => {
      const limit = policy?.backoffLimit ?? 6;
      if (!ok && trigger === 'schedule' && !this.stopped && attempt < limit) {
        this.retry = { at: Date.now() + this.scheduleBackoff.next(), attempt: attempt + 1 };
      }
    }).finally(() => {
      if (deadline) clearTimeout(deadline);
      if (this.running?.id === id) this.running = undefined;
    });
    this.running = { id, abort, done };
  }

  /** One backup run; resolves with whether it succeeded (failures are recorded, never thrown). */
  private async backup(spec: ClusterSpec, id: string, trigger: BackupRunFile['trigger'], signal: AbortSignal): Promise<boolean> {
    const { metrics, log } = this.o;
    const run: BackupRunFile = { id, trigger, state: 'running', phase: 'starting', startedAt: new Date().toISOString() };
    // Writes in order: the last state written is the last state reached (moco backup waits for it).
    let writing: Promise<void> = Promise.resolve();
    const write = (): Promise<void> => {
      const snapshot = { ...run };
      writing = writing.then(() => writeJsonAtomic(this.o.dir.backupRunFile, snapshot)).catch(() => undefined);
      return writing;
    };
    await write();
    metrics.backupInProgress.set(1);
    let lastWrite = 0;
    try {
      const status = await this.status();
      if (spec.restore && !status.restoredTime) {
        throw failedPrecondition(`cluster ${spec.namespace}/${spec.name} is still being restored; back it up once moco status shows it restored`);
      }
      const target = backupTargetOf(spec, this.stateRoot);
      if (target.backendType === 'file') await ensureDirectory(target.bucket, signal);
      const bucket = openBucket(target);
      run.location = bucket.describe();
      try {
        await bucket.check(signal);
      } finally {
        bucket.close();
      }
      log.info({ id, trigger, location: run.location }, 'backup started');
      const outcome = await runClusterBackup({
        spec, primaryIndex: status.currentPrimaryIndex, previous: status.backup, target,
        agent: (i) => this.o.agent(i), ready: (i) => this.o.ready(i), signal,
        onProgress: (p) => {
          Object.assign(run, { phase: p.phase, bytes: p.bytes, sourceIndex: p.sourceIndex });
          if (Date.now() - lastWrite > 500) {
            lastWrite = Date.now();
            void write();
          }
        },
      });
      await this.patch(() => ({ backup: outcome.status, lastBackupFailure: undefined }));
      Object.assign(run, { state: 'succeeded', phase: 'done', status: outcome.status, manifestKey: outcome.manifestKey, sourceIndex: outcome.status.sourceIndex });
      this.event('Normal', 'BackupCreated', `backup ${outcome.manifestKey} created from instance ${outcome.status.sourceIndex}`);
      for (const w of outcome.status.warnings ?? []) {
        this.event('Warning', w.startsWith('failed to back up binary logs') ? 'BackupNoBinlog' : 'BackupWarning', w);
      }
      log.info({ id, key: outcome.manifestKey, dumpBytes: outcome.status.dumpSize, binlogBytes: outcome.status.binlogSize }, 'backup succeeded');
      return true;
    } catch (err) {
      const message = signal.aborted && signal.reason instanceof Error ? `${signal.reason.message} (${messageOf(err)})` : messageOf(err);
      run.state = signal.aborted ? 'cancelled' : 'failed';
      run.error = message;
      metrics.backupFailures.inc();
      await this.patch(() => ({ lastBackupFailure: { time: new Date().toISOString(), message } }))
        .catch((e: unknown) => log.warn({ err: messageOf(e) }, 'cannot record the backup failure in the status'));
      this.event('Warning', 'BackupFailed', `backup failed: ${message}`);
      log.warn({ id, err: message }, 'backup failed');
      return false;
    } finally {
      metrics.backupInProgress.set(0);
      run.finishedAt = new Date().toISOString();
      await write();
    }
  }

  private handleRestore(spec: ClusterSpec, status: ClusterStatus): void {
    const restore = spec.restore;
    if (!restore || status.restoredTime || this.restoring) return;
    if (Date.now() < this.restoreAt) return;
    this.restoring = true;
    const started = Date.now();
    void this.restore(spec).then((outcome) => {
      // Attempts start RESTORE_RETRY_MS apart (a long attempt that failed is followed at once by the next).
      if (outcome === 'failed') this.restoreAt = started + this.restoreBackoff.next();
      else this.restoreBackoff.reset();
    }).finally(() => {
      this.restoring = false;
    });
  }

  /** One restore attempt: 'waiting' (instance 0 not up yet: try again at the next tick), 'done' or 'failed'. */
  private async restore(spec: ClusterSpec): Promise<'waiting' | 'done' | 'failed'> {
    const restore = spec.restore;
    if (!restore) return 'done';
    const { log } = this.o;
    const agent = this.o.agent(0);
    try {
      // The restore needs instance 0's agent and mysqld; until then, wait without counting it as a failure.
      await agent.getStatus({ timeoutMs: 3000 });
    } catch {
      return 'waiting';
    }
    let bucket: ReturnType<typeof openBucket> | undefined;
    const abort = new AbortController();
    this.restoreAbort = abort;
    let progress: Promise<void> = Promise.resolve();
    try {
      const target = bucketTarget(restore.jobConfig, this.stateRoot);
      bucket = openBucket(target);
      log.info({ source: `${restore.sourceNamespace}/${restore.sourceName}`, point: restore.restorePoint, location: bucket.describe() }, 'restore started');
      this.event('Normal', 'RestoreStarted', `restoring ${restore.sourceNamespace}/${restore.sourceName} as of ${restore.restorePoint} from ${bucket.describe()}`);
      const passwords = await loadPasswords({}, this.o.dir.passwordsDir);
      let lastProgress = 0;
      let lastPhase: string | undefined;
      const outcome = await runClusterRestore({
        source: { name: restore.sourceName, namespace: restore.sourceNamespace }, restorePoint: restore.restorePoint,
        target, bucket, agent, passwords: { ...passwords }, signal: abort.signal,
        onProgress: (p) => {
          // Shown by moco up and moco status while the restore runs (a phase change at once, else every 2 s).
          if (p.phase === lastPhase && Date.now() - lastProgress < 2000) return;
          lastPhase = p.phase;
          lastProgress = Date.now();
          // In order, one at a time: a later progress report must not be overtaken by an earlier one.
          progress = progress.then(() => this.patch((cur) => ({ restore: { ...cur.restore, phase: p.phase, bytes: p.bytes } })))
            .then(() => undefined, (e: unknown) => log.warn({ err: messageOf(e) }, 'cannot record the restore progress'));
        },
      });
      await progress;
      await this.patch(() => ({
        restoredTime: outcome.restoredTime,
        restore: { backupTime: outcome.backupTime, binlogApplied: outcome.binlogApplied, warnings: outcome.warnings, phase: 'done' },
      }));
      this.event('Normal', 'Restored', `restored from backup ${outcome.backupTime}${outcome.binlogApplied ? ' and its binlogs' : ''} up to ${restore.restorePoint}`);
      for (const w of outcome.warnings) this.event('Warning', 'RestoreWarning', w);
      this.o.onRestored?.();
      return 'done';
    } catch (err) {
      const message = messageOf(err);
      await progress;
      let previousError: string | undefined;
      await this.patch((cur) => {
        previousError = cur.restore?.error;
        return { restore: { ...cur.restore, error: message, errorTime: new Date().toISOString() } };
      }).catch((e: unknown) => log.warn({ err: messageOf(e) }, 'cannot record the restore failure in the status'));
      if (previousError !== message) this.event('Warning', 'RestoreFailed', `restore failed (retrying every ${RESTORE_RETRY_MS / 1000} s): ${message}`);
      log.warn({ err: message }, 'restore failed');
      return 'failed';
    } finally {
      bucket?.close();
      this.restoreAbort = undefined;
    }
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.o.dir.appendEvent({ type, reason, message }).catch(() => undefined);
  }
}

/** Writes a backup request; returns its id. */
export async function requestBackup(dir: ClusterDir): Promise<string> {
  const id = randomUUID();
  await fs.mkdir(path.dirname(dir.backupRequestFile), { recursive: true });
  // Renamed into place: the coordinator reacts to the file appearing and must never read half of it.
  await writeJsonAtomic(dir.backupRequestFile, { id, requestedAt: new Date().toISOString() });
  return id;
}
