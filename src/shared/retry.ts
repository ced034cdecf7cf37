/**
 * The one retry/backoff helper: a Backoff (initial delay, growth factor, cap, jitter, reset after a stable run)
 * for loops that schedule their own next attempt (a process restart, a stream reconnect, a clone or backup
 * retried on the next tick), and `retry()` for a call that is simply tried again, cancellable through its signal.
 */
import { MocoError } from './errors.ts';
import { systemClock, type Clock } from './clock.ts';

export interface BackoffOptions {
  /** The first delay (ms). */
  initialMs: number;
  /** The largest delay (ms); defaults to initialMs (a constant delay). */
  maxMs?: number;
  /** Each delay is the previous one times this (default 2). */
  factor?: number;
  /**
   * Spread, as a fraction of the delay: 0.2 gives a delay uniformly within +/-20 % of the nominal one (default 0),
   * so that many retriers started together do not stay in step.
   */
  jitter?: number;
  /** An attempt that ran (stayed up) at least this long before failing starts the delays over. */
  resetAfterMs?: number;
  /** Random numbers in [0, 1) for the jitter (tests pass a constant). */
  random?: () => number;
}

/** Delays that grow from initialMs by factor up to maxMs. Not thread-safe; one per retrying loop. */
export class Backoff {
  private nominal: number;
  private count = 0;

  constructor(private readonly o: BackoffOptions) {
    if (!(o.initialMs >= 0)) throw new RangeError(`backoff initialMs must be >= 0, got ${o.initialMs}`);
    this.nominal = o.initialMs;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.count;
  }

  /**
   * The delay before the next attempt, and advances. `ranMs`: how long the attempt that just failed ran (a
   * process's uptime, a stream's lifetime); at least resetAfterMs starts the delays over first.
   */
  next(ranMs?: number): number {
    if (this.o.resetAfterMs !== undefined && ranMs !== undefined && ranMs >= this.o.resetAfterMs) this.reset();
    const base = this.nominal;
    this.count++;
    this.nominal = Math.min(this.o.maxMs ?? this.o.initialMs, base * (this.o.factor ?? 2));
    const j = this.o.jitter ?? 0;
    if (j <= 0) return base;
    const r = (this.o.random ?? Math.random)();
    return Math.max(0, Math.round(base * (1 + j * (2 * r - 1))));
  }

  /** Starts the delays over (after a success). */
  reset(): void {
    this.nominal = this.o.initialMs;
    this.count = 0;
  }
}

export interface RetryOptions {
  backoff: BackoffOptions;
  /** Attempts in all, the first included (default: unlimited, until the signal aborts). */
  attempts?: number;
  /** Whether an error is worth another attempt (default: MocoError.retryable; anything else is not). */
  retryable?: (err: unknown) => boolean;
  signal?: AbortSignal;
  clock?: Clock;
  /** Called before each wait (for a log line). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Calls `fn` until it succeeds, the error is not retryable, the attempts are used up (the last error is thrown)
 * or `signal` aborts (CANCELLED, with the last error as cause). `attempt` counts from 1.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const clock = o.clock ?? systemClock;
  const backoff = new Backoff(o.backoff);
  const retryable = o.retryable ?? ((err: unknown) => err instanceof MocoError && err.retryable);
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw new MocoError('CANCELLED', 'cancelled before the next attempt', { cause: o.signal.reason });
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retryable(err) || attempt >= (o.attempts ?? Infinity)) throw err;
      const delay = backoff.next();
      o.onRetry?.(err, attempt, delay);
      try {
        await clock.sleep(delay, o.signal);
      } catch (cancelled) {
        throw new MocoError('CANCELLED', 'cancelled while waiting to retry', { cause: err instanceof Error ? err : cancelled });
      }
    }
  }
}
