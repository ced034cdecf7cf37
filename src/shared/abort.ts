/** Cancellation helpers: every async I/O function takes an AbortSignal, and sleeps are abortable. */
import { setTimeout as delay } from 'node:timers/promises';
import { MocoError } from './errors.ts';

/** Sleeps `ms`, rejecting with CANCELLED when `signal` aborts first. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if (signal?.aborted) throw new MocoError('CANCELLED', 'cancelled while waiting', { cause: err });
    throw err;
  }
}

/** Combines an optional caller signal with a timeout. */
export function withTimeout(ms: number, signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, t]) : t;
}

/** Throws CANCELLED if the signal has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new MocoError('CANCELLED', `${what} was cancelled`, { cause: signal.reason });
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or `signal` aborts. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  intervalMs: number,
  signal: AbortSignal,
): Promise<T> {
  for (;;) {
    throwIfAborted(signal, 'waiting');
    const v = await check();
    if (v !== undefined) return v;
    await sleep(intervalMs, signal);
  }
}
