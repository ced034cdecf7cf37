/**
 * Time as a dependency: code that waits or stamps times takes a Clock, so that tests drive it with a fake one
 * (test/helpers/fake-clock.ts) instead of real timers.
 */
import { sleep } from './abort.ts';

/** A pending timer; cancel() is idempotent. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` (never before). */
  setTimer(fn: () => void, ms: number): Timer;
  /** Resolves after `ms`; rejects with CANCELLED when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: Date.now and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  sleep: (ms, signal) => sleep(ms, signal),
};
