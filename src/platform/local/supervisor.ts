/**
 * The local platform's kubelet for one mysqld: starts it, swaps in a staged data directory before every start
 * (the run-mysqld contract, src/agent/datadir.ts), restarts it with backoff when it exits, and stops it by
 * PID. mysqld's own output goes to a log file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { openSync, closeSync, statSync, readSync } from 'node:fs';
import { swapStagedData } from '../../agent/datadir.ts';
import type { Logger } from '../../shared/logger.ts';
import { Backoff } from '../../shared/retry.ts';

export interface SupervisorOptions {
  mysqld: string;
  myCnfPath: string;
  dataDir: string;
  logFile: string;
  /**
   * mysqld's error log (log_error in my.cnf). With it, a stop waits until mysqld has said it is ready for
   * connections before sending SIGTERM (see stop()).
   */
  errorLog?: string;
  /** Extra arguments after --defaults-file. */
  args?: string[];
  /** Descriptors mysqld inherits as fd 3, 4, ... (the instance lock, so that it stays held while mysqld lives). */
  inheritFds?: number[];
  log: Logger;
  /** First restart delay; doubles up to maxBackoffMs, reset after a run of 10 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class MysqldSupervisor extends EventEmitter {
  private child: ChildProcess | undefined;
  private stopping = false;
  private readonly backoff: Backoff;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  /** The error log's size when this run of mysqld started: its own lines come after. */
  private errorLogFrom = 0;
  /** How many times mysqld was started. */
  starts = 0;

  constructor(private readonly o: SupervisorOptions) {
    super();
    this.backoff = new Backoff({ initialMs: o.minBackoffMs ?? 250, maxMs: o.maxBackoffMs ?? 5000, factor: 2, resetAfterMs: 10_000 });
  }

  /** mysqld's PID while it runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.spawnOnce();
  }

  private async spawnOnce(): Promise<void> {
    if (this.stopping) return;
    try {
      if (await swapStagedData(this.o.dataDir)) this.o.log.info({ dataDir: this.o.dataDir }, 'swapped in staged data directory');
    } catch (err) {
      this.o.log.error({ err }, 'swapping the staged data directory failed; starting on the current one');
    }
    this.errorLogFrom = this.o.errorLog ? fileSize(this.o.errorLog) : 0;
    const fd = openSync(this.o.logFile, 'a');
    const child = spawn(this.o.mysqld, [`--defaults-file=${this.o.myCnfPath}`, ...(this.o.args ?? [])], {
      stdio: ['ignore', fd, fd, ...(this.o.inheritFds ?? [])],
    });
    closeSync(fd);
    this.child = child;
    this.startedAt = Date.now();
    this.starts++;
    child.once('spawn', () => this.emit('started', child.pid));
    child.once('error', (err) => this.o.log.error({ err }, 'cannot start mysqld'));
    child.once('exit', (code, signal) => {
      this.emit('exited', code, signal);
      if (this.stopping) return;
      const delay = this.backoff.next(Date.now() - this.startedAt);
      this.o.log.warn({ code, signal, restartInMs: delay }, 'mysqld exited; restarting');
      this.restartTimer = setTimeout(() => void this.spawnOnce(), delay);
    });
  }

  /** Sends a signal to mysqld (tests: SIGKILL to crash it, SIGSTOP/SIGCONT to hang it). */
  signal(sig: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid !== undefined) process.kill(pid, sig);
  }

  /**
   * Whether this run of mysqld has said "ready for connections" in its error log (true without an error log).
   */
  ready(): boolean {
    if (!this.o.errorLog) return true;
    return readFrom(this.o.errorLog, this.errorLogFrom).includes('ready for connections');
  }

  /**
   * Stops mysqld: SIGTERM, then SIGKILL after `graceMs`. No restart afterwards.
   *
   * A mysqld still starting is first given up to `readyWaitMs` to finish: MariaDB 10.11 hangs for good when SIGTERM
   * arrives between opening its sockets and starting its replication threads (its main thread waits in init_slave()
   * for a thread that saw the shutdown and never started), and before its signal handlers exist SIGTERM kills it
   * without a clean shutdown. A mysqld that does not get ready in that time is stopped anyway.
   */
  async stop(graceMs = 30_000, readyWaitMs = Math.min(30_000, graceMs)): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(child.pid as number, 'SIGCONT');
    } catch {
      // already gone
    }
    if (!this.ready()) {
      this.o.log.info({ pid: child.pid }, 'mysqld is still starting; asking it to stop once it is ready');
      const deadline = Date.now() + readyWaitMs;
      while (child.exitCode === null && child.signalCode === null && !this.ready() && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      if (child.exitCode !== null || child.signalCode !== null) return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The text of `file` from byte `from` on (at most 1 MiB of it; all of it if shorter now), or '' when it cannot be read. */
function readFrom(file: string, from: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fileSize(file);
    const start = size < from ? 0 : from; // truncated since: all of it is new
    const buf = Buffer.alloc(Math.min(size - start, 1 << 20));
    const n = readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
