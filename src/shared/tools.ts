/** External programs the agent runs (backup tools), found on PATH unless configured, and how to run them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MocoError } from './errors.ts';

/** Finds an executable on PATH; undefined when absent. */
export function which(name: string, extraDirs: string[] = ['/usr/sbin', '/usr/local/sbin', '/usr/local/mysql/bin']): string | undefined {
  if (name.includes('/')) return name;
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extraDirs];
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Keeps the last `max` lines of a child's stderr, for error messages. */
export function tailLines(child: ChildProcess, max = 20): () => string {
  const lines: string[] = [];
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    const parts = (partial + s).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length > max) lines.splice(0, lines.length - max);
  });
  return () => [...lines, partial].filter((l) => l.trim() !== '').slice(-max).join('\n');
}

/** Resolves with the exit code; rejects if the program could not be started. */
export function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}

/** Runs a program to completion; INTERNAL with its last stderr lines when it fails. */
export async function run(cmd: string, args: string[], what: string, signal?: AbortSignal): Promise<void> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const tail = tailLines(child);
  const onAbort = (): void => {
    child.kill('SIGTERM');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await exited(child);
    if (signal?.aborted) throw new MocoError('CANCELLED', `${what} was cancelled`);
    if (code !== 0) throw new MocoError('INTERNAL', `${what} failed (exit ${code}): ${tail()}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

export interface PipedTool {
  cmd: string;
  args: string[];
  /** What it does, for error messages ("mariadb-dump of the source"). */
  what: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `reader | writer` (the reader's output through `via` when given), with `prefix` written to the writer
 * first; without a reader the writer gets `prefix` only. A writer that stops early stops the reader (it would
 * block on a full pipe); `signal` stops both. Throws CANCELLED, or INTERNAL naming the tool that failed first
 * with its last stderr lines.
 */
export async function pipeTools(reader: PipedTool | undefined, writer: PipedTool,
  o: { signal: AbortSignal; prefix?: string; via?: NodeJS.ReadWriteStream }): Promise<void> {
  const w = spawn(writer.cmd, writer.args, { cwd: writer.cwd, env: writer.env, stdio: ['pipe', 'ignore', 'pipe'] });
  const wTail = tailLines(w);
  const wDone = exited(w);
  w.stdin.on('error', () => undefined);
  if (o.prefix) w.stdin.write(o.prefix);
  const r = reader && spawn(reader.cmd, reader.args, { cwd: reader.cwd, env: reader.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const rTail = r ? tailLines(r) : () => '';
  let readerStopped = false;
  // Besides the signal, the reader's end of its pipe is closed: a process it started that still holds the pipe
  // (a shell's child, a tool's helper) then fails its next write instead of blocking on a full pipe forever.
  const stopReader = (): void => {
    r?.kill('SIGTERM');
    r?.stdout?.destroy();
  };
  const stop = (): void => {
    stopReader();
    w.kill('SIGTERM');
  };
  o.signal.addEventListener('abort', stop, { once: true });
  try {
    if (r) {
      (o.via ? r.stdout.pipe(o.via) : r.stdout).pipe(w.stdin);
      void wDone.then(() => {
        if (r.exitCode === null && r.signalCode === null) {
          readerStopped = true;
          stopReader();
        }
      }, stopReader);
    } else {
      w.stdin.end();
    }
    const [rc, wc] = await Promise.all([r ? exited(r) : Promise.resolve(0), wDone]);
    if (o.signal.aborted) throw new MocoError('CANCELLED', `${writer.what} was cancelled`);
    const fail = (t: PipedTool, code: number, tail: string): MocoError => new MocoError('INTERNAL', `${t.what} failed (exit ${code}): ${tail}`);
    if (wc !== 0 && (readerStopped || rc === 0)) throw fail(writer, wc, wTail());
    if (reader && rc !== 0) throw fail(reader, rc, rTail());
    if (wc !== 0) throw fail(writer, wc, wTail());
  } finally {
    o.signal.removeEventListener('abort', stop);
  }
}

/** Writes a client option file (mode 0600) so that passwords never appear on a command line. */
export async function writeClientOptions(file: string, o: { user: string; password: string; socket?: string; host?: string; port?: number }): Promise<void> {
  const plain = (v: string): string => (/^[\w./@%-]+$/.test(v) ? v : optionValue(v));
  const lines = ['[client]', `user=${plain(o.user)}`, `password=${optionValue(o.password)}`];
  if (o.socket) lines.push(`socket=${plain(o.socket)}`);
  if (o.host) lines.push(`host=${plain(o.host)}`);
  if (o.port) lines.push(`port=${o.port}`);
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** A value for a MySQL option file, quoted and escaped. */
export function optionValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
