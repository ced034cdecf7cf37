/** Waiting for a local cluster to become available, with progress a user can follow, and the summary after. */
import path from 'node:path';
import type { ReplicationSource } from '../api/spec.ts';
import { mysqldExitFile, type MysqldExitRecord } from '../platform/local/instance-process.ts';
import { readJsonOptional, type ClusterDir } from '../platform/local/state.ts';
import { CliError, dirFlag, type Io } from './common.ts';
import { localView, type StatusJson } from '../platform/local/client.ts';

export interface WaitOptions {
  timeoutMs: number;
  /** Instances this command started: while they start, a Lost or Failed state only means "not up yet". */
  started?: number[];
  signal?: AbortSignal;
}

/** How long an instance this command started counts as "starting" before its state is taken at its word. */
const STARTING_MS = 120_000;

/** The reason an instance's mysqld keeps failing to start, once it failed three times in a row. */
async function crashLoop(cd: ClusterDir, index: number): Promise<string | undefined> {
  const rec = await readJsonOptional<MysqldExitRecord>(mysqldExitFile(cd.instance(index).root)).catch(() => undefined);
  if (!rec || rec.failuresInARow < 3 || !rec.last) return undefined;
  const how = rec.last.signal ? `was killed by ${rec.last.signal}` : `exited with code ${rec.last.code}`;
  const errors = rec.last.errors.length ? `:\n    ${rec.last.errors.join('\n    ')}` : '';
  return `instance ${index}'s mysqld cannot start (it ${how}, ${rec.failuresInARow} times in a row)${errors}\n` +
    `  (see ${cd.instance(index).errorLog})`;
}

/** Waits until the coordinator reports the cluster Available and the primary endpoint is served; prints progress. */
export async function waitAvailable(cd: ClusterDir, o: WaitOptions, io: Io): Promise<StatusJson> {
  const started = Date.now();
  let last = '';
  for (;;) {
    o.signal?.throwIfAborted();
    // One read of the status for everything below: two reads could pair one state with another's message.
    const st = await localView(cd);
    const stored = st.status;
    const fresh = st.observedAt !== null && Date.parse(st.observedAt) >= started - 1000;
    const healthy = stored.conditions.find((c) => c.type === 'Healthy');
    const r = stored.restore;
    const restoring = st.status.state === 'Restoring' && r?.phase ? ` (restore: ${r.phase}${r.bytes ? `, ${(r.bytes / 1e6).toFixed(0)} MB` : ''})` : '';
    let line = `state ${st.status.state ?? 'unknown'}${healthy ? `: ${healthy.message.replace(/^the current state is \w+: /, '')}` : ''}${restoring}`;
    const starting = (o.started ?? []).filter((i) => !st.instances[i]?.ready);
    if ((st.status.state === 'Lost' || st.status.state === 'Failed') && starting.length > 0 && Date.now() - started < STARTING_MS) {
      line = `waiting for instance${starting.length > 1 ? 's' : ''} ${starting.join(', ')} to start`;
    }
    if (fresh && line !== last) {
      io.out(`  ${line}`);
      last = line;
    }
    for (const i of st.instances.map((x) => x.index)) {
      const why = await crashLoop(cd, i);
      if (why) throw new CliError(why);
    }
    // A clone from the external source that cannot start or failed needs the user as well.
    if (st.status.state === 'Cloning') {
      const spec = await cd.readSpec();
      if (spec.replicationSourceSecretName && !spec.replicationSource) {
        throw new CliError(`the cluster waits (state Cloning) for Secret "${spec.replicationSourceSecretName}" with the external source's ` +
          'HOST, PORT, USER and PASSWORD; add it to the manifest as another document and run moco up -f again');
      }
      if (stored.lastCloneFailure) {
        throw new CliError(`the clone from the external source failed: ${stored.lastCloneFailure.message}\n(fix the source or the ` +
          `Secret and run moco up -f again, or remove the cluster with moco down --purge ${st.name})`);
      }
    }
    // A restore that fails needs the user: report it instead of waiting for the timeout.
    if (stored.restore?.error && !stored.restoredTime) {
      throw new CliError(`the restore failed: ${stored.restore.error}\n(fix the cause and run moco up again, or ` +
        `remove the cluster with moco down --purge ${st.name})`);
    }
    const primary = st.instances[st.status.currentPrimaryIndex];
    if (fresh && stored.conditions.some((c) => c.type === 'Available' && c.status === 'True') && st.endpoints.primary && primary?.ready) return st;
    if (st.coordinator.pid === null && Date.now() - started > 5000) {
      throw new CliError(`the coordinator is not running; see ${path.join(cd.logsDir, 'coordinator.log')}`);
    }
    if (Date.now() - started > o.timeoutMs) {
      throw new CliError(`the cluster did not become available within ${Math.round(o.timeoutMs / 1000)} s (${line}); ` +
        `see moco status ${st.name}, ${path.join(cd.logsDir, 'coordinator.log')} and the instance logs under ${cd.path('instances')}`);
    }
    await new Promise((res) => setTimeout(res, 250));
  }
}


export function printSummary(cd: ClusterDir, st: StatusJson, io: Io, source?: ReplicationSource): void {
  const d = dirFlag(cd.dir);
  if (source) {
    io.out(`\nthe primary replicates from the external source ${source.host}:${source.port} and stays read-only; clear ` +
      'spec.replicationSourceSecretName (null) and run moco up -f again to make it writable');
  }
  io.out(`
cluster ${st.namespace}/${st.name} is available (${st.status.state}): ${st.replicas} instance${st.replicas === 1 ? '' : 's'}, primary is instance ${st.status.currentPrimaryIndex}
  primary endpoint (read-write): ${st.endpoints.primary}
  replica endpoint (read-only):  ${st.endpoints.replica}
  connect:  npx moco mysql${d} -u moco-writable ${st.name}
       or:  mysql -h 127.0.0.1 -P ${st.endpoints.primary?.split(':')[1]} -u moco-writable -p"$(npx moco credential${d} -u moco-writable ${st.name})"
  status:   npx moco status${d} ${st.name}      stop: npx moco down${d} ${st.name}`);
}
