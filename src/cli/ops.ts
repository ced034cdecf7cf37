/** `moco reinit`: wipe an instance's data; it rejoins by clone (what deleting a Pod and its volume does on Kubernetes). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ClusterBusyError, lockCluster, stopInstanceReported } from '../platform/local/controller.ts';
import type { HeldLock } from '../platform/local/lock.ts';
import { startInstance, markers, waitPid } from '../platform/local/processes.ts';
import type { ClusterDir } from '../platform/local/state.ts';
import { CliError, usageError, type Io } from './common.ts';
import { localTarget } from './local.ts';

/** Runs `fn` holding the cluster's command lock; another command at work on it is a clear refusal. */
async function withClusterLock<T>(cd: ClusterDir, fn: () => Promise<T>): Promise<T> {
  let lock: HeldLock;
  try {
    lock = lockCluster(cd);
  } catch (err) {
    if (err instanceof ClusterBusyError) throw new CliError(err.message);
    throw err;
  }
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

export async function reinit(argv: string[], io: Io): Promise<number> {
  const { cd, values } = await localTarget(argv, 'reinit', { index: { type: 'string' }, force: { type: 'boolean' } });
  const spec = await cd.readSpec();
  const index = Number(values.index);
  if (values.index === undefined || !Number.isInteger(index) || index < 0 || index >= spec.replicas) {
    throw usageError(`reinit: give --index I with I from 0 to ${spec.replicas - 1}`);
  }
  const st = await cd.readStatus();
  // While a restore has not finished, instance 0 holds nothing to lose yet: wiping it lets the restore start over.
  const restoring = spec.restore !== undefined && !st?.restoredTime;
  if (spec.replicas === 1 && !restoring) throw usageError('reinit of the only instance of a single-instance cluster would delete all its data; refused');
  if ((st?.currentPrimaryIndex ?? 0) === index && !values.force && !restoring) {
    throw usageError(`instance ${index} is the primary; run moco switchover ${spec.name} first (or pass --force to wipe it and let a failover happen)`);
  }
  await withClusterLock(cd, async () => {
    io.out(`instance ${index}: stopping`);
    await stopInstanceReported(cd, index, (l) => io.out(l));
    const layout = cd.instance(index);
    for (const p of [layout.dataDir, `${layout.dataDir}.staged`, path.join(layout.root, 'moco-initialized'), path.join(layout.root, '.moco-initializing')]) {
      await fs.rm(p, { recursive: true, force: true });
    }
    io.out(`instance ${index}: data removed; starting it empty`);
    startInstance(cd, index);
    if (!(await waitPid(cd.instancePidFile(index, 'agent'), markers.agent(cd, index), 60_000))) {
      throw new CliError(`instance ${index} did not start; see ${path.join(layout.root, 'supervisor.log')}`);
    }
  });
  io.out(`instance ${index} re-initialized; the coordinator clones it from the primary (watch: moco status ${spec.name})`);
  return 0;
}
