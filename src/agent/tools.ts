/** External programs the agent runs (backup tools), found on PATH unless configured, and how to run them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { MocoError } from '../shared/errors.ts';

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
