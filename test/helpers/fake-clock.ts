/**
 * A Clock for unit tests: time moves only when the test calls advance(). Timers due within the advanced span
 * fire in time order, with pending promise callbacks and I/O callbacks run between them (so an async loop that
 * sleeps on this clock gets to its next sleep before time moves on).
 */
import { MocoError } from '../../src/shared/errors.ts';
import type { Clock, Timer } from '../../src/shared/clock.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets every pending promise callback, and anything queued behind them, run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Pending[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const p: Pending = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(p);
    return { cancel: () => { this.timers = this.timers.filter((x) => x !== p); } };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new MocoError('CANCELLED', 'cancelled while waiting'));
        return;
      }
      const onAbort = (): void => {
        timer.cancel();
        reject(new MocoError('CANCELLED', 'cancelled while waiting'));
      };
      const timer = this.setTimer(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and settling after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((p) => p !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}
