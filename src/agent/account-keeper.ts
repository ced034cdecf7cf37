/**
 * Keeps the project's accounts as they should be: re-asserts them (the flavor adapter's reassertAccounts) when
 * the agent first reaches its mysqld, again whenever mysqld has restarted since (privileges edited in the grant
 * tables take effect at a restart), and every `intervalMs` in between (an account can be taken over without a
 * restart: docs/users.md). It runs beside everything else and never throws: a failure is logged, counted and
 * retried with backoff, while probes and RPCs go on as usual.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../shared/logger.ts';
import { sleep } from '../shared/abort.ts';
import type { AccountReassertResult } from './flavor/flavor.ts';

export interface AccountKeeperOptions {
  /** Re-asserts the accounts once. */
  reassert(): Promise<AccountReassertResult>;
  /** mysqld's uptime in seconds; rejects while mysqld does not answer. */
  uptime(): Promise<number>;
  /** Re-assert this often besides at start and after restarts; 0: only then. */
  intervalMs: number;
  /** How often mysqld's uptime is looked at (restart detection, retries). */
  tickMs?: number;
  /** First retry delay after a failure; doubles up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  log: Logger;
  metrics: { checks: Counter<'result'>; repairs: Counter };
  now?: () => number;
}

/** A restart moves mysqld's start time (now − uptime, whole seconds) forward by more than its jitter. */
const RESTART_JITTER_MS = 2500;
/**
 * Between two ticks, uptime (whole seconds, read at some point during the query) may grow by up to about a
 * second less than the clock, more when one query was slow: slack enough not to take that for a restart.
 */
const UPTIME_SLACK_S = 2.5;

export class AccountKeeper {
  private readonly o: Required<Omit<AccountKeeperOptions, 'now'>> & { now: () => number };
  private readonly stopper = new AbortController();
  private loop: Promise<void> | undefined;
  /** mysqld's start time (ms) when the accounts were last re-asserted. */
  private assertedStart: number | undefined;
  private lastRun = 0;
  private retryAt: number | undefined;
  private failures = 0;
  private disabled = false;
  private lastReport = '';
  /** The previous tick's uptime reading. */
  private last: { at: number; uptimeS: number } | undefined;
  /** mysqld did not answer since the last re-assert, or it restarted: re-assert once it answers. */
  private restartPending = false;

  constructor(options: AccountKeeperOptions) {
    this.o = {
      tickMs: 2000, minBackoffMs: 2000, maxBackoffMs: 60_000, now: Date.now, ...options,
    };
  }

  /** Starts the background loop. */
  start(): void {
    if (this.loop) return;
    this.loop = (async () => {
      while (!this.stopper.signal.aborted && !this.disabled) {
        await this.tick();
        await sleep(this.o.tickMs, this.stopper.signal).catch(() => undefined);
      }
    })();
  }

  /** Stops the loop; waits for a re-assert in progress to finish. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop;
  }

  /**
   * One step: finds out whether a re-assert is due (first contact, mysqld restarted, interval over, retry
   * time reached) and runs it. Public for tests, which drive it with a fake clock.
   */
  async tick(): Promise<void> {
    if (this.disabled) return;
    let uptimeS: number;
    const asked = this.o.now();
    try {
      uptimeS = await this.o.uptime();
    } catch {
      // mysqld is away (or hung): it may come back restarted, with grant tables edited meanwhile.
      if (this.assertedStart !== undefined) this.restartPending = true;
      return;
    }
    const now = this.o.now();
    // When mysqld read its uptime is only known to lie within the query: take the middle.
    const at = (asked + now) / 2;
    const started = at - uptimeS * 1000;
    // Restarted: its start time moved on since the last re-assert, or its uptime grew less than the time passed
    // since the previous tick (a restart between two ticks).
    const sinceLast = this.last ? this.last.uptimeS + (at - this.last.at) / 1000 - uptimeS : 0;
    if (this.assertedStart !== undefined && (started > this.assertedStart + RESTART_JITTER_MS || sinceLast > UPTIME_SLACK_S)) {
      this.restartPending = true;
    }
    this.last = { at, uptimeS };
    const reason = this.assertedStart === undefined ? 'agent start'
      : this.restartPending ? 'mysqld restarted or was unreachable'
        : this.retryAt !== undefined ? 'retry'
          : this.o.intervalMs > 0 && now - this.lastRun >= this.o.intervalMs ? 'periodic' : undefined;
    if (reason === undefined) return;
    if (this.retryAt !== undefined && now < this.retryAt) return;
    await this.run(reason, started);
  }

  private async run(reason: string, started: number): Promise<void> {
    const t0 = this.o.now();
    let r: AccountReassertResult;
    try {
      r = await this.o.reassert();
    } catch (err) {
      this.failed(reason, { err });
      return;
    }
    if (!r.supported) {
      this.disabled = true;
      this.o.metrics.checks.inc({ result: 'skipped' });
      this.o.log.info('accounts are not re-asserted on this flavor (docs/users.md)');
      return;
    }
    for (const change of r.changes) this.o.log.warn({ reason, change }, 'account repaired');
    this.o.metrics.repairs.inc(r.changes.length);
    this.report(r);
    if (r.failures.length > 0) {
      this.failed(reason, { failures: r.failures, changes: r.changes.length });
      return;
    }
    this.o.metrics.checks.inc({ result: r.changes.length > 0 ? 'repaired' : 'unchanged' });
    const ms = this.o.now() - t0;
    if (r.changes.length > 0) this.o.log.info({ reason, changes: r.changes.length, ms }, 'accounts re-asserted');
    else this.o.log.debug({ reason, ms }, 'accounts as they should be');
    this.assertedStart = started;
    this.restartPending = false;
    this.lastRun = this.o.now();
    this.retryAt = undefined;
    this.failures = 0;
  }

  private failed(reason: string, fields: Record<string, unknown>): void {
    this.o.metrics.checks.inc({ result: 'failed' });
    const backoff = Math.min(this.o.minBackoffMs * 2 ** this.failures, this.o.maxBackoffMs);
    this.failures++;
    this.retryAt = this.o.now() + backoff;
    this.o.log.error({ reason, retryInMs: backoff, ...fields }, 're-asserting the accounts failed; retrying');
  }

  /** Logs what is reported but not changed, when it differs from the last report. */
  private report(r: AccountReassertResult): void {
    const text = JSON.stringify([r.definerObjects, r.mysqlWriters]);
    if (text === this.lastReport) return;
    this.lastReport = text;
    if (r.definerObjects.length > 0) {
      this.o.log.warn({ objects: r.definerObjects },
        'stored objects run as moco-agent: whoever may call them can write on a read-only instance; drop or re-create them with another DEFINER');
    }
    if (r.mysqlWriters.length > 0) {
      this.o.log.warn({ accounts: r.mysqlWriters }, 'accounts besides moco-admin and moco-agent may modify the mysql schema (docs/users.md)');
    }
  }
}
