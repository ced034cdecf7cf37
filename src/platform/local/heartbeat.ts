/**
 * The local coordinator's heartbeat (the Lease of a Kubernetes controller): run/coordinator-heartbeat.json holds
 * the coordinator's PID and when it last observed the cluster. Written after every observation (it is not the
 * status object, so writing it every poll costs no status write); moco status and moco up read it.
 */
import { mkdir } from 'node:fs/promises';
import type { ClusterDir } from './state.ts';
import { readJsonOptional, writeJsonAtomic } from './state.ts';

export interface Heartbeat {
  pid: number;
  /** ISO time of the last observation. */
  observedAt: string;
}

export async function writeHeartbeat(dir: ClusterDir, observedAt: Date, pid = process.pid): Promise<void> {
  await mkdir(dir.runDir, { recursive: true });
  await writeJsonAtomic(dir.heartbeatFile, { pid, observedAt: observedAt.toISOString() } satisfies Heartbeat);
}

/** The last heartbeat, or undefined when no coordinator has observed yet (or the file cannot be read). */
export async function readHeartbeat(dir: ClusterDir): Promise<Heartbeat | undefined> {
  const hb = await readJsonOptional<Heartbeat>(dir.heartbeatFile).catch(() => undefined);
  return hb && typeof hb.observedAt === 'string' && typeof hb.pid === 'number' ? hb : undefined;
}
