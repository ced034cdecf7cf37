/**
 * One poller shared by every WatchStatus stream: it reads the status every `intervalMs` (at most about ten
 * reads a second), sends it to subscribers when it changed, sends a heartbeat when nothing was sent for
 * `heartbeatMs`, and ends every stream with the error when mysqld does not answer within `unreachableMs`.
 * It runs only while someone watches.
 */
import { MocoError } from '../shared/errors.ts';
import type { InstanceStatus } from '../generated/moco/agent/v1/InstanceStatus.ts';

export interface Subscriber {
  onStatus(status: InstanceStatus, heartbeat: boolean): void;
  onError(err: MocoError): void;
}

export interface StatusHubOptions {
  read: (timeoutMs: number) => Promise<InstanceStatus>;
  intervalMs: number;
  heartbeatMs: number;
  unreachableMs: number;
}

/** What changes every read without meaning anything changed (sourceSilent, derived from receivedAgoMs, does count). */
function fingerprint(s: InstanceStatus): string {
  return JSON.stringify({ ...s, uptimeSeconds: 0, observedAtMs: 0, replica: s.replica && { ...s.replica, receivedAgoMs: 0 } });
}

export class StatusHub {
  private readonly subs = new Set<Subscriber>();
  /** Subscribers that have not received a first status yet. */
  private readonly fresh = new Set<Subscriber>();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private lastPrint = '';
  private lastSentAt = 0;

  constructor(private readonly o: StatusHubOptions) {}

  get subscribers(): number {
    return this.subs.size;
  }

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(sub: Subscriber): () => void {
    this.subs.add(sub);
    this.fresh.add(sub);
    if (!this.running) {
      this.running = true;
      this.lastPrint = '';
      this.schedule(0);
    }
    return () => {
      this.subs.delete(sub);
      this.fresh.delete(sub);
    };
  }

  /** Ends every stream (shutdown). */
  close(err: MocoError): void {
    for (const s of this.subs) s.onError(err);
    this.subs.clear();
    this.stop();
  }

  private stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    // A subscriber that throws must not stop polling for everyone else.
    this.timer = setTimeout(() => {
      this.tick().catch(() => {
        if (this.subs.size > 0) this.schedule(this.o.intervalMs);
        else this.stop();
      });
    }, ms);
  }

  private async tick(): Promise<void> {
    if (this.subs.size === 0) {
      this.stop();
      return;
    }
    const started = Date.now();
    let status: InstanceStatus;
    try {
      status = await this.o.read(this.o.unreachableMs);
    } catch (err) {
      const e = err instanceof MocoError && err.code === 'MYSQLD_UNAVAILABLE' ? err
        : new MocoError('MYSQLD_UNAVAILABLE', `mysqld does not answer: ${(err as Error).message}`, { cause: err });
      for (const s of this.subs) s.onError(e);
      this.subs.clear();
      this.fresh.clear();
      this.stop();
      return;
    }
    const print = fingerprint(status);
    const now = Date.now();
    const changed = print !== this.lastPrint;
    if (changed || now - this.lastSentAt >= this.o.heartbeatMs) {
      this.lastPrint = print;
      this.lastSentAt = now;
      for (const s of this.subs) s.onStatus(status, !changed);
    } else {
      for (const s of this.fresh) s.onStatus(status, false);
    }
    this.fresh.clear();
    if (this.subs.size === 0) {
      this.stop();
      return;
    }
    this.schedule(Math.max(0, this.o.intervalMs - (Date.now() - started)));
  }
}
