/**
 * A client of a cluster on the test bed, for tests and benchmarks: autocommit inserts through the primary Service.
 */
import mysql from 'mysql2/promise';
import { waitFor } from './kube.ts';

/**
 * Autocommit inserts through the primary Service as moco-writable, one at a time, from this machine (kube-proxy
 * routes the ClusterIP). Remembers the acknowledged ids and the longest time without an acknowledgement.
 */
export class Writer {
  acked: number[] = [];
  errors = 0;
  lastError = '';
  longestGapMs = 0;
  /** Gaps between acknowledgements longer than 100 ms, with when they ended. */
  gaps: Array<{ ms: number; endedAt: number }> = [];
  /** When each write was acknowledged (ms since the epoch), in order. */
  ackTimes: number[] = [];
  /** Every failed attempt: when it started, how long it took, whether connecting or the insert failed, and why. */
  failures: Array<{ at: number; ms: number; step: 'connect' | 'insert'; message: string }> = [];
  private static nextId = 1;
  private running = false;
  private done: Promise<void> | undefined;

  constructor(private readonly host: string, private readonly password: string, private readonly connectTimeoutMs = 2000) {}

  async prepare(): Promise<void> {
    const c = await mysql.createConnection({ host: this.host, user: 'moco-writable', password: this.password, connectTimeout: 5000 });
    await c.query('CREATE DATABASE IF NOT EXISTS kube');
    await c.query('CREATE TABLE IF NOT EXISTS kube.w (id INT PRIMARY KEY)');
    await c.end();
  }

  start(): void {
    this.running = true;
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  async progress(n: number, timeoutMs = 60_000): Promise<void> {
    const target = this.acked.length + n;
    await waitFor(`${n} acknowledged writes (${this.errors} errors, last: ${this.lastError || 'none'})`,
      async () => this.acked.length >= target, { timeoutMs, intervalMs: 100 });
  }

  private async loop(): Promise<void> {
    let conn: mysql.Connection | undefined;
    let last = Date.now();
    while (this.running) {
      const at = Date.now();
      let step: 'connect' | 'insert' = 'connect';
      try {
        conn ??= await mysql.createConnection({ host: this.host, user: 'moco-writable', password: this.password, connectTimeout: this.connectTimeoutMs });
        step = 'insert';
        const id = Writer.nextId++;
        await conn.query({ sql: 'INSERT INTO kube.w (id) VALUES (?)', values: [id], timeout: 3000 });
        this.acked.push(id);
        const now = Date.now();
        this.ackTimes.push(now);
        if (now - last > 100) this.gaps.push({ ms: now - last, endedAt: now });
        this.longestGapMs = Math.max(this.longestGapMs, now - last);
        last = now;
      } catch (err) {
        this.errors++;
        this.lastError = (err as Error).message;
        this.failures.push({ at, ms: Date.now() - at, step, message: this.lastError });
        conn?.destroy();
        conn = undefined;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    conn?.destroy();
  }

  /**
   * The acknowledged ids the primary does not have. Only what was acknowledged before the read starts is checked:
   * the writer may still be running, and a row acknowledged while the SELECT reads is not in its snapshot.
   */
  async lost(): Promise<number[]> {
    const acked = [...this.acked];
    const c = await mysql.createConnection({ host: this.host, user: 'moco-writable', password: this.password, connectTimeout: 5000 });
    const [rows] = await c.query('SELECT id FROM kube.w');
    await c.end();
    const have = new Set((rows as Array<{ id: number }>).map((r) => r.id));
    return acked.filter((id) => !have.has(id));
  }

  /** The longest gap between acknowledgements that ended after `t` (the unavailability an event caused). */
  gapSince(t: number): number {
    return this.gaps.filter((g) => g.endedAt > t).reduce((m, g) => Math.max(m, g.ms), 0);
  }

  /** The first acknowledgement after `t`. */
  firstAckAfter(t: number): number | undefined {
    return this.ackTimes.find((a) => a > t);
  }
}
