/**
 * A client of a cluster on the test bed, for tests and benchmarks: autocommit inserts through the primary Service.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
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
  /**
   * Every failed attempt: when it started, how long it took, whether connecting or the insert failed, and why. A
   * failed connect says whether the TCP connection was made (then the MySQL handshake did not finish) and, when it
   * timed out, what conntrack held for it (where kube-proxy's rules had sent it, in which state).
   */
  failures: Array<{ at: number; ms: number; step: 'connect' | 'insert'; message: string; detail?: string }> = [];
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
      let socket: net.Socket | undefined;
      let tcpAt = 0;
      let localPort = 0;
      try {
        if (!conn) {
          socket = net.connect(3306, this.host);
          socket.setNoDelay(true);
          socket.once('connect', () => {
            tcpAt = Date.now();
          });
          // The local port, while the connection attempt still has one (a timed-out socket is destroyed).
          const s = socket;
          setTimeout(() => {
            localPort = s.localPort ?? 0;
          }, 100).unref();
          conn = await mysql.createConnection({
            host: this.host, user: 'moco-writable', password: this.password, connectTimeout: this.connectTimeoutMs, stream: socket,
          });
        }
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
        const f: (typeof this.failures)[number] = { at, ms: Date.now() - at, step, message: this.lastError };
        if (step === 'connect') {
          f.detail = tcpAt ? `TCP connected after ${tcpAt - at} ms` : 'no TCP connection';
          if (!tcpAt && f.ms >= this.connectTimeoutMs && localPort) f.detail += `; from port ${localPort}, conntrack: ${await conntrackOf(localPort)}`;
        }
        this.failures.push(f);
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

/** conntrack's entries for a connection from this machine's local port (empty when conntrack is not installed). */
function conntrackOf(localPort: number): Promise<string> {
  return new Promise((resolve) => {
    execFile('conntrack', ['-L', '-p', 'tcp', '--sport', String(localPort)], { timeout: 5000 }, (err, stdout) => {
      resolve(err && !stdout ? `(${err.message.split('\n')[0]})` : stdout.trim().replace(/\s+/g, ' '));
    });
  });
}
