/**
 * Starting and stopping a local cluster's processes, always by PID (and only PIDs whose command line names
 * this cluster's files, so a reused PID is never signalled).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../shared/paths.ts';
import { ClusterDir, livePid, signalPid, waitGone } from './state.ts';

const mocoBin = (): string => path.join(projectRoot(), 'bin', 'moco.js');

export type Component = 'coordinator' | 'endpoints';

/**
 * What an instance's supervisor may take to stop (instance-process.ts): the agent, then mysqld finishing its
 * startup (MOCO waits for that before asking it to stop; supervisor.ts says why), then mysqld's shutdown.
 */
export const SUPERVISOR_STOP_PARTS = { agentMs: 10_000, readyWaitMs: 30_000, mysqldMs: 60_000 };
export const SUPERVISOR_STOP_MS = SUPERVISOR_STOP_PARTS.agentMs + SUPERVISOR_STOP_PARTS.readyWaitMs + SUPERVISOR_STOP_PARTS.mysqldMs;

/** Command-line markers that identify each process of a cluster. */
export const markers = {
  component: (dir: ClusterDir, c: Component) => `_${c} ${dir.root}`,
  supervisor: (dir: ClusterDir, i: number) => `_instance ${dir.root} ${i}`,
  agent: (dir: ClusterDir, i: number) => `--data-dir ${dir.instance(i).dataDir}`,
  mysqld: (dir: ClusterDir, i: number) => `--defaults-file=${dir.instance(i).myCnf}`,
};

export interface InstancePids {
  supervisor: number | null;
  mysqld: number | null;
  agent: number | null;
}

export function instancePids(dir: ClusterDir, i: number): InstancePids {
  return {
    supervisor: livePid(dir.instancePidFile(i, 'supervisor'), markers.supervisor(dir, i)) ?? null,
    mysqld: livePid(dir.instance(i).pidFile, markers.mysqld(dir, i)) ?? null,
    agent: livePid(dir.instancePidFile(i, 'agent'), markers.agent(dir, i)) ?? null,
  };
}

export function componentPid(dir: ClusterDir, c: Component): number | null {
  return livePid(dir.pidFile(c), markers.component(dir, c)) ?? null;
}

/** Starts `moco <args>` in its own session, detached from this process, output appended to `logFile`. */
export function spawnDetached(args: string[], logFile: string): number {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [mocoBin(), ...args], { detached: true, stdio: ['ignore', fd, fd], env: process.env });
  closeSync(fd);
  child.unref();
  if (!child.pid) throw new Error(`could not start moco ${args.join(' ')}`);
  return child.pid;
}

export function startComponent(dir: ClusterDir, c: Component): number {
  return spawnDetached([`_${c}`, dir.root], path.join(dir.logsDir, `${c}.log`));
}

export function startInstance(dir: ClusterDir, i: number): number {
  return spawnDetached(['_instance', dir.root, String(i)], path.join(dir.instance(i).root, 'supervisor.log'));
}

/** Waits up to `timeoutMs` for a PID file to name a live process with `marker`. */
export async function waitPid(file: string, marker: string, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pid = livePid(file, marker);
    if (pid) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function terminate(pid: number | null, marker: string, graceMs: number): Promise<void> {
  if (pid === null) return;
  signalPid(pid, 'SIGCONT');
  signalPid(pid, 'SIGTERM');
  if (!(await waitGone(pid, marker, graceMs))) {
    signalPid(pid, 'SIGKILL');
    await waitGone(pid, marker, 5000);
  }
}
