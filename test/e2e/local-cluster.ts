/**
 * End-to-end harness: drives local clusters through the `moco` CLI exactly as a user would (a child process
 * per command, state in a temporary --dir), plus a writer that inserts through the primary endpoint and
 * remembers every acknowledged row. Every process a test started is stopped by PID afterwards.
 */
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import type { StatusJson } from '../../src/platform/local/client.ts';
import { waitFor } from '../helpers/harness.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mocoBin = path.join(root, 'bin', 'moco.js');
const allPids = new Set<number>();

process.on('exit', () => {
  for (const pid of allPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runMoco(dir: string, args: string[], timeoutMs = 600_000): Promise<RunResult> {
  return spawnMoco([...args, '--dir', dir], timeoutMs);
}

/**
 * Like runMoco, but `--dir` goes right after the command word, for commands whose trailing arguments are not
 * moco's own (`moco mysql NAME -- CLIENT-ARGS`).
 */
export function runMocoDirFirst(dir: string, args: string[], timeoutMs = 600_000): Promise<RunResult> {
  return spawnMoco([...args.slice(0, 1), '--dir', dir, ...args.slice(1)], timeoutMs);
}

function spawnMoco(argv: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mocoBin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    // 'close', not 'exit': the output is complete only once the pipes have closed.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

export { waitFor };

export class LocalCluster {
  private constructor(readonly dir: string, readonly name: string) {}

  /**
   * `moco up -d` of a new cluster in a fresh state directory; throws with the CLI's output if it fails (after
   * destroying what it started). `timeoutSeconds`: moco up's --timeout (default: the CLI's).
   */
  static async up(name: string, options: { replicas?: number; manifest?: string; timeoutSeconds?: number } = {}): Promise<LocalCluster> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-e2e-'));
    const c = new LocalCluster(dir, name);
    const args = ['up', '-d', '--name', name];
    if (options.manifest !== undefined) {
      const file = path.join(dir, 'manifest.yaml');
      await fs.writeFile(file, options.manifest);
      args.push('-f', file);
    }
    if (options.replicas !== undefined) args.push('--replicas', String(options.replicas));
    if (options.timeoutSeconds !== undefined) args.push('--timeout', String(options.timeoutSeconds));
    const r = await c.moco(args);
    await c.trackPids();
    if (r.code !== 0) {
      await c.destroy();
      throw new Error(`moco up failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
    return c;
  }

  async moco(args: string[], timeoutMs?: number): Promise<RunResult> {
    const r = await runMoco(this.dir, args, timeoutMs);
    return r;
  }

  async status(): Promise<StatusJson> {
    const r = await this.moco(['status', this.name, '-o', 'json'], 30_000);
    if (r.code !== 0) throw new Error(`moco status failed (${r.code}): ${r.stderr}`);
    const st = JSON.parse(r.stdout) as StatusJson;
    for (const i of st.instances) for (const p of Object.values(i.pids)) if (p) allPids.add(p);
    if (st.coordinator.pid) allPids.add(st.coordinator.pid);
    if (st.endpoints.pid) allPids.add(st.endpoints.pid);
    return st;
  }

  private async trackPids(): Promise<void> {
    await this.status().catch(() => undefined);
  }

  /** Waits until the status satisfies `pred`; returns that status. */
  async waitStatus(pred: (s: StatusJson) => boolean, timeoutMs: number, what: string): Promise<StatusJson> {
    return waitFor(async () => {
      const s = await this.status();
      return pred(s) ? s : undefined;
    }, timeoutMs, what);
  }

  async waitHealthy(timeoutMs = 120_000, replicas?: number): Promise<StatusJson> {
    return this.waitStatus((s) => s.status.state === 'Healthy' && (replicas === undefined || s.replicas === replicas) &&
      s.instances.every((i) => i.ready), timeoutMs, 'the cluster to be Healthy');
  }

  password(user: 'moco-writable' | 'moco-readonly' | 'moco-admin' | 'moco-agent'): string {
    const key = { 'moco-writable': 'WRITABLE_PASSWORD', 'moco-readonly': 'READONLY_PASSWORD', 'moco-admin': 'ADMIN_PASSWORD', 'moco-agent': 'AGENT_PASSWORD' }[user];
    return readFileSync(path.join(this.dir, this.name, 'passwords', key), 'utf8').trim();
  }

  /** A connection through an endpoint ('primary' | 'replica') or straight to instance `i`'s mysqld. */
  async connect(to: 'primary' | 'replica' | number, user: 'moco-writable' | 'moco-readonly' | 'moco-admin' = 'moco-writable'): Promise<mysql.Connection> {
    const st = await this.status();
    const port = typeof to === 'number' ? st.instances[to]?.port : Number(st.endpoints[to]?.split(':')[1]);
    return mysql.createConnection({ host: '127.0.0.1', port, user, password: this.password(user), connectTimeout: 3000 });
  }

  /** The agent's own account over the instance's unix socket (the only account that may write on a replica). */
  async connectAsAgent(i: number): Promise<mysql.Connection> {
    return mysql.createConnection({ socketPath: path.join(this.dir, this.name, 'instances', String(i), 'run', 'mysqld.sock'), user: 'moco-agent', password: this.password('moco-agent') });
  }

  /** Sends `signal` to every live process of instance `i` (supervisor, mysqld, agent) or to the chosen ones. */
  async signalInstance(i: number, signal: NodeJS.Signals, which: Array<'supervisor' | 'mysqld' | 'agent'> = ['supervisor', 'mysqld', 'agent']): Promise<void> {
    const st = await this.status();
    const pids = st.instances[i]?.pids;
    if (!pids) throw new Error(`no instance ${i}`);
    for (const w of which) if (pids[w]) process.kill(pids[w] as number, signal);
  }

  async rows(to: 'primary' | number, sql = 'SELECT id FROM e2e.w ORDER BY id'): Promise<number[]> {
    const c = await this.connect(to, 'moco-admin');
    try {
      const [rows] = await c.query(sql);
      return (rows as Array<{ id: number }>).map((r) => r.id);
    } finally {
      await c.end();
    }
  }

  async destroy(): Promise<void> {
    await this.moco(['down', this.name, ...(process.env.MOCO_TEST_KEEP ? [] : ['--purge'])]).catch(() => undefined);
    const st = await fs.access(path.join(this.dir, this.name)).then(() => this.status().catch(() => undefined), () => undefined);
    for (const i of st?.instances ?? []) for (const p of Object.values(i.pids)) if (p) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    if (!process.env.MOCO_TEST_KEEP) await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Autocommit inserts through the primary endpoint, one at a time. Remembers acknowledged ids and the longest
 * time between two acknowledgements while running (the write unavailability a client saw).
 */
export class Writer {
  acked: number[] = [];
  errors = 0;
  lastError = '';
  /** Ids are unique across writers of one test process. */
  private static nextId = 1;
  private running = false;
  private done: Promise<void> | undefined;
  private lastAck = 0;
  /** Gaps between acknowledgements longer than 100 ms, in ms, with when they ended. */
  gaps: Array<{ ms: number; endedAt: number }> = [];

  constructor(private readonly cluster: LocalCluster) {}

  static async prepare(cluster: LocalCluster): Promise<void> {
    const c = await cluster.connect('primary', 'moco-writable');
    await c.query('CREATE DATABASE IF NOT EXISTS e2e');
    await c.query('CREATE TABLE IF NOT EXISTS e2e.w (id INT PRIMARY KEY, at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3))');
    await c.end();
  }

  start(): void {
    this.running = true;
    this.lastAck = Date.now();
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Waits until `n` more rows are acknowledged. */
  async progress(n: number, timeoutMs = 30_000): Promise<void> {
    const target = this.acked.length + n;
    await waitFor(async () => this.acked.length >= target, timeoutMs, `${n} acknowledged writes (${this.errors} errors, last: ${this.lastError || 'none'})`);
  }

  get longestGapMs(): number {
    return Math.max(0, ...this.gaps.map((g) => g.ms));
  }

  private async loop(): Promise<void> {
    const password = this.cluster.password('moco-writable');
    let port: number | undefined;
    let conn: mysql.Connection | undefined;
    while (this.running) {
      try {
        port ??= Number((await this.cluster.status()).endpoints.primary?.split(':')[1]);
        conn ??= await mysql.createConnection({ host: '127.0.0.1', port, user: 'moco-writable', password, connectTimeout: 2000 });
        const id = Writer.nextId++;
        await conn.query({ sql: 'INSERT INTO e2e.w (id) VALUES (?)', values: [id], timeout: 3000 });
        this.acked.push(id);
        const now = Date.now();
        if (now - this.lastAck > 100) this.gaps.push({ ms: now - this.lastAck, endedAt: now });
        this.lastAck = now;
      } catch (err) {
        this.errors++;
        this.lastError = (err as Error).message;
        conn?.destroy();
        conn = undefined;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    conn?.destroy();
  }
}

/** The acknowledged ids missing from `rows`. */
export function lost(acked: number[], rows: number[]): number[] {
  const have = new Set(rows);
  return acked.filter((id) => !have.has(id));
}
