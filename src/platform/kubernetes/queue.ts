/**
 * A keyed work queue (controller-runtime's, small): a key queued while it is being worked on is worked on again
 * afterwards, never twice at once; a failed key is retried after a growing delay; `concurrency` keys at a time.
 */
import { Backoff } from '../../shared/retry.ts';

export type Work = (key: string) => Promise<{ requeueAfterMs?: number } | void>;

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, Backoff>();
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly work: Work, private readonly concurrency = 4, private readonly onError: (key: string, err: unknown) => void = () => undefined) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.pending.add(key);
    this.pump();
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms));
  }

  /** Resolves when nothing is pending or running (tests). */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
  }

  private pump(): void {
    while (!this.stopped && this.active.size < this.concurrency && this.pending.size > 0) {
      const key = this.pending.values().next().value as string;
      this.pending.delete(key);
      this.active.add(key);
      void this.run(key);
    }
    if (this.pending.size === 0 && this.active.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(key: string): Promise<void> {
    try {
      const r = await this.work(key);
      this.failures.delete(key);
      if (r && r.requeueAfterMs !== undefined) this.addAfter(key, r.requeueAfterMs);
    } catch (err) {
      this.onError(key, err);
      let b = this.failures.get(key);
      if (!b) this.failures.set(key, (b = new Backoff({ initialMs: 500, maxMs: 60_000, jitter: 0.2 })));
      this.addAfter(key, b.next());
    } finally {
      this.active.delete(key);
      if (this.dirty.delete(key)) this.pending.add(key);
      this.pump();
    }
  }
}
