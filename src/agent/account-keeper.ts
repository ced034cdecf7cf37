/**
 * Keeps the project's accounts as they should be: re-asserts them (the flavor adapter's reassertAccounts) when
 * the agent first reaches its mysqld, again whenever mysqld has restarted since (privileges edited in the grant
 * tables take effect at a restart), and every `intervalMs` in between (an account can be taken over without a
 * restart: docs/users.md). A restart is told for certain, not guessed from mysqld's uptime: the agent keeps one
 * connection open, which a restart closes, and each time it has to open it anew counts as a new generation. It runs beside everything else and never throws: a failure is logged, counted and
 * retried with backoff, while probes and RPCs go on as usual.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../shared/logger.ts';
import { sleep } from '../shared/abort.ts';
import type { AccountReassertResult } from './flavor/flavor.ts';

export interface AccountKeeperOptions {
  /** Re-asserts the accounts once. */
  reassert(): Promise<AccountReassertResult>;
  /**
   * The generation of the agent's long-lived connection to mysqld: it changes whenever the connection had to be
   * opened anew (mysqld restarted, or the connection broke). Rejects while mysqld does not answer.
   */
  generation(): Promise<number>;
  /** Re-assert this often besides at start and after restarts; 0: only then. */
  intervalMs: number;
  /** How often the connection is looked at (restart detection, retries). */
  tickMs?: number;
  /** First retry delay after a failure; doubles up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  log: Logger;
  metrics: { checks: Counter<'result'>; repairs: Counter };
  now?: () => number;
}

export class AccountKeeper {
  private readonly o: Required<Omit<AccountKeeperOptions, 'now'>> & { now: () => number };
  private readonly stopper = new AbortController();
  private loop: Promise<void> | undefined;
  /** The connection generation the accounts were last re-asserted in. */
  private assertedGeneration: number | undefined;
  private lastRun = 0;
  private retryAt: number | undefined;
  private failures = 0;
  private disabled = false;
  private lastReport = '';

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
    let generation: number;
    try {
      generation = await this.o.generation();
    } catch {
      return; // mysqld is away; when it answers again the connection is a new generation
    }
    const now = this.o.now();
    const reason = this.assertedGeneration === undefined ? 'agent start'
      : generation !== this.assertedGeneration ? 'mysqld restarted or the connection to it broke'
        : this.retryAt !== undefined ? 'retry'
          : this.o.intervalMs > 0 && now - this.lastRun >= this.o.intervalMs ? 'periodic' : undefined;
    if (reason === undefined) return;
    if (this.retryAt !== undefined && now < this.retryAt) return;
    await this.run(reason, generation);
  }

  private async run(reason: string, generation: number): Promise<void> {
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
    this.assertedGeneration = generation;
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
