/**
 * Exclusive locks that live exactly as long as the processes holding them: flock(2) on an open file description.
 *
 * Node has no flock, so the lock is taken by the flock(1) utility (util-linux) on a descriptor this process opened
 * and passed to it as fd 3: flock(2) locks belong to the open file description, which this process keeps after
 * flock(1) exits. The kernel drops the lock when the last descriptor sharing it is closed, so a crashed or
 * SIGKILLed holder never leaves a stale lock behind, and a holder can hand the descriptor to its children (the
 * supervisor passes its instance lock to mysqld and the agent) so the lock stays held while any of them lives.
 *
 * The file also records who holds it (PID, command, since when), for the message a refused process prints.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';

/** Exit code flock(1) uses here when another process holds the lock. */
const CONFLICT = 75;

export interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

/** A lock this process holds; `fd` may be passed to children (spawn's stdio) to share it. */
export class HeldLock {
  private closed = false;

  constructor(readonly file: string, readonly fd: number) {}

  /** Releases this process's share of the lock (children it was passed to keep theirs). Idempotent. */
  release(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** Thrown when another process holds the lock; `holder` says who, when the file tells. */
export class LockBusyError extends Error {
  constructor(readonly file: string, readonly holder: LockHolder | undefined) {
    super(`${file} is locked${holder ? ` by PID ${holder.pid} (${holder.command}) since ${holder.since}` : ''}`);
    this.name = 'LockBusyError';
  }
}

/** Who holds (or last held) the lock at `file`, as it recorded itself; undefined when unknown. */
export function lockHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** This process's command line, shortened for messages. */
function ownCommand(): string {
  const args = process.argv.slice(1).map((a) => (/\/moco(\.js|\.mjs|\.ts)$/.test(a) ? 'moco' : a));
  const text = args.join(' ');
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

/**
 * Takes the lock at `file` (created with its directory when missing). `waitMs` 0 (the default) fails at once when
 * another process holds it; otherwise waits up to that long.
 * @throws LockBusyError when the lock is held elsewhere; Error when flock(1) cannot run.
 */
export function acquireLock(file: string, options: { waitMs?: number } = {}): HeldLock {
  const fd = openLockFile(file);
  const r = spawnSync('flock', [...waitArgs(options.waitMs), '--conflict-exit-code', String(CONFLICT), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
  });
  return held(file, fd, r.status, r.signal, r.stderr.toString(), r.error);
}

/**
 * {@link acquireLock} without blocking the event loop while flock(1) starts or waits (for locks taken often, such as
 * the status file's, where a blocked event loop would delay everything else the process does).
 */
export async function acquireLockAsync(file: string, options: { waitMs?: number } = {}): Promise<HeldLock> {
  const fd = openLockFile(file);
  const r = await new Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string; error?: Error }>((resolve) => {
    let stderr = '';
    const child = spawn('flock', [...waitArgs(options.waitMs), '--conflict-exit-code', String(CONFLICT), '3'], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
    });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('error', (error) => resolve({ status: null, signal: null, stderr, error }));
    child.once('close', (status, signal) => resolve({ status, signal, stderr }));
  });
  return held(file, fd, r.status, r.signal, r.stderr, r.error);
}

function openLockFile(file: string): number {
  mkdirSync(path.dirname(file), { recursive: true });
  return openSync(file, constants.O_RDWR | constants.O_CREAT, 0o600);
}

function waitArgs(waitMs: number | undefined): string[] {
  return waitMs ? ['--wait', String(waitMs / 1000)] : ['--nonblock'];
}

function held(file: string, fd: number, status: number | null, signal: NodeJS.Signals | null, stderr: string, error: Error | undefined): HeldLock {
  if (status !== 0) {
    closeSync(fd);
    if (status === CONFLICT) throw new LockBusyError(file, lockHolder(file));
    const why = error ? error.message : `flock exited with ${status ?? signal}: ${stderr.trim()}`;
    throw new Error(`cannot lock ${file}: ${why} (flock comes with util-linux)`);
  }
  const holder: LockHolder = { pid: process.pid, command: ownCommand(), since: new Date().toISOString() };
  ftruncateSync(fd, 0);
  writeSync(fd, `${JSON.stringify(holder)}\n`, 0);
  return new HeldLock(file, fd);
}

/** True when some process holds the lock at `file` now (probes by taking and releasing it). */
export function isLocked(file: string): boolean {
  try {
    const fd = openSync(file, constants.O_RDWR);
    try {
      const r = spawnSync('flock', ['--nonblock', '--conflict-exit-code', String(CONFLICT), '3'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
      return r.status === CONFLICT;
    } finally {
      closeSync(fd); // also drops the lock the probe may have taken
    }
  } catch {
    return false;
  }
}
