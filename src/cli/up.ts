/** `moco up` and `moco down`: create, resume, change and stop a local cluster. */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { findMysqld } from '../agent/mysqld.ts';
import { checkUpdate, defaultManifest, ManifestError, parseManifest } from '../cluster/manifest.ts';
import type { ClusterSpec, LoadedManifest, ReplicationSource } from '../cluster/spec.ts';
import { conditionTrue } from '../coordinator/status.ts';
import { freePort } from '../shared/net.ts';
import { messageOf } from '../shared/errors.ts';
import { bucketTarget } from '../backup/policy.ts';
import { planRestore } from '../backup/runner.ts';
import { openBucket } from '../backup/storage/index.ts';
import { projectRoot } from '../shared/paths.ts';
import { ensureClusterPki, ensurePasswords } from '../platform/local/instance.ts';
import {
  componentPid, instancePids, startComponent, startInstance, stopComponent, stopInstance, markers, waitPid,
} from '../platform/local/processes.ts';
import { ClusterDir, listClusters, type ClusterFile } from '../platform/local/state.ts';
import { CliError, parseCommand, resolveCluster, stateDir, usageError, type Io } from './common.ts';
import { clusterStatus, type StatusJson } from './status.ts';

/** Every port a cluster already uses (its endpoints, coordinator and instances). */
function clusterPorts(cluster: ClusterFile): number[] {
  return [cluster.primaryPort, cluster.replicaPort, cluster.coordinatorHttpPort,
    ...cluster.instances.flatMap((p) => [p.mysqlPort, p.grpcPort, p.httpPort])];
}

/** Sets spec.replicas in the MySQLCluster document of a manifest, keeping everything else as written. */
function withReplicas(text: string, replicas: number): string {
  const docs = YAML.parseAllDocuments(text);
  for (const d of docs) if (d.get('kind') === 'MySQLCluster') d.setIn(['spec', 'replicas'], replicas);
  return docs.map((d) => d.toString()).join('---\n');
}

function loadManifest(text: string, source: string): LoadedManifest {
  try {
    return parseManifest(text, { source });
  } catch (err) {
    if (err instanceof ManifestError) throw usageError(`${source} is not a valid manifest; nothing was changed:\n  ${err.problems.join('\n  ')}`);
    throw err;
  }
}

/** Installs MariaDB when no mysqld is found and we are root; otherwise says what to run. */
export function ensureMysqld(io: Io): void {
  if (findMysqld()) return;
  if (process.getuid?.() !== 0) {
    throw new CliError('no mysqld found; install one, for example:\n  sudo apt-get install -y mariadb-server mariadb-client mariadb-backup\n' +
      '(or put MySQL 8.4\'s mysqld on PATH), then run this again');
  }
  io.out('no mysqld found; installing MariaDB from Debian (about a minute)...');
  execFileSync('bash', [path.join(projectRoot(), 'scripts', 'ensure-mysqld.sh')], { stdio: 'inherit' });
}

/** Gives ports to instances up to `replicas`: all distinct, and distinct from the ports the cluster has. */
export async function allocate(cluster: ClusterFile, replicas: number): Promise<boolean> {
  let changed = false;
  for (let i = cluster.instances.length; i < replicas; i++) {
    const used = clusterPorts(cluster);
    const mysqlPort = await freePort(used);
    const grpcPort = await freePort(used);
    const httpPort = await freePort(used);
    cluster.instances.push({ index: i, mysqlPort, grpcPort, httpPort });
    changed = true;
  }
  return changed;
}

/** Makes the processes match the spec: every declared instance runs (dead ones are restarted), plus endpoints and coordinator. */
export async function reconcile(cd: ClusterDir, spec: ClusterSpec, io: Io): Promise<void> {
  if (spec.offline) {
    await Promise.all(Array.from({ length: spec.replicas }, (_, i) => stopInstance(cd, i)));
  } else {
    for (let i = 0; i < spec.replicas; i++) {
      const pids = instancePids(cd, i);
      if (pids.supervisor !== null) continue;
      if (pids.agent !== null || pids.mysqld !== null) {
        io.out(`instance ${i}: stopping processes left without their supervisor`);
        await stopInstance(cd, i);
      }
      io.out(`instance ${i}: starting`);
      startInstance(cd, i);
    }
  }
  for (const c of ['endpoints', 'coordinator'] as const) {
    if (componentPid(cd, c) === null) {
      startComponent(cd, c);
      if (!(await waitPid(cd.pidFile(c), markers.component(cd, c), 30_000))) {
        throw new CliError(`the ${c} process did not start; see ${path.join(cd.logsDir, `${c}.log`)}`);
      }
    }
  }
}

const defaultDirFlag = (dir: string): string => (path.resolve(dir) === path.resolve(process.env.MOCO_DIR ?? '.moco') ? '' : ` --dir ${dir}`);

export async function up(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    file: { type: 'string', short: 'f' }, name: { type: 'string' }, replicas: { type: 'string' },
    detach: { type: 'boolean', short: 'd' }, timeout: { type: 'string', default: '600' },
  }, 'up');
  if (positionals.length) throw usageError(`up: unexpected argument "${positionals[0]}"; use -f FILE for a manifest or --name NAME`);
  const dir = path.resolve(stateDir(values.dir));
  const replicas = values.replicas === undefined ? undefined : Number(values.replicas);
  if (replicas !== undefined && !(Number.isInteger(replicas) && replicas > 0 && replicas % 2 === 1)) {
    throw usageError(`--replicas ${values.replicas}: give a positive odd number (1, 3, 5); nothing was changed`);
  }
  const timeoutSec = Number(values.timeout);
  if (!(timeoutSec > 0)) throw usageError(`--timeout ${values.timeout}: give seconds, e.g. 600`);

  let text: string;
  let source: string;
  if (values.file) {
    source = values.file;
    text = await fs.readFile(values.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw usageError(`cannot read ${values.file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
  } else {
    const existing = await listClusters(dir);
    const name = values.name ?? (existing.length === 1 ? existing[0] as string : 'local');
    const cd = new ClusterDir(dir, name);
    source = (await cd.exists()) ? cd.manifestFile : 'the default manifest';
    text = (await cd.exists()) ? await fs.readFile(cd.manifestFile, 'utf8') : defaultManifest({ name, replicas: replicas ?? 3 });
  }
  if (replicas !== undefined) text = withReplicas(text, replicas);
  const loaded = loadManifest(text, source);
  const spec = loaded.spec;
  if (values.name && values.name !== spec.name) {
    throw usageError(`--name ${values.name} does not match metadata.name "${spec.name}" in ${source}; nothing was changed`);
  }
  const cd = new ClusterDir(dir, spec.name);
  const exists = await cd.exists();
  let applied = spec;
  if (exists) {
    const previous = await cd.readSpec();
    if (previous.namespace !== spec.namespace) {
      throw usageError(`cluster "${spec.name}" in ${dir} is in namespace ${previous.namespace}, the manifest says ${spec.namespace}; nothing was changed`);
    }
    try {
      checkUpdate(previous, spec);
    } catch (err) {
      if (err instanceof ManifestError) throw usageError(`cannot apply ${source} to cluster "${spec.name}"; nothing was changed:\n  ${err.problems.join('\n  ')}`);
      throw err;
    }
    const ann = await cd.readAnnotations();
    if (ann.reconciliationStopped && JSON.stringify(previous) !== JSON.stringify(spec)) {
      await fs.writeFile(cd.path('pending-manifest.yaml'), text);
      io.out('reconciliation is stopped: the change is stored and applied by `moco start reconciliation`');
      applied = previous;
    }
  }
  ensureMysqld(io);
  if (!exists && spec.restore) await checkRestore(spec, dir, io);
  for (const note of loaded.notApplyingLocally) io.out(`note: ${note}`);

  await fs.mkdir(cd.root, { recursive: true, mode: 0o700 });
  for (const d of [cd.runDir, cd.logsDir, cd.path('requests')]) await fs.mkdir(d, { recursive: true });
  await ensurePasswords(cd.passwordsDir);
  await ensureClusterPki(cd.pkiDir);
  const cluster: ClusterFile = exists ? await cd.readCluster() : {
    name: spec.name, namespace: spec.namespace, createdAt: new Date().toISOString(),
    primaryPort: await freePort(), replicaPort: await freePort(), coordinatorHttpPort: await freePort(), instances: [],
  };
  if (await allocate(cluster, applied.replicas) || !exists) await cd.writeCluster(cluster);
  if (applied === spec) {
    await fs.writeFile(cd.manifestFile, text, { mode: 0o600 });
    await cd.writeSpec(spec);
  }
  io.out(`${exists ? 'resuming' : 'creating'} cluster ${spec.namespace}/${spec.name} with ${applied.replicas} instance${applied.replicas === 1 ? '' : 's'} in ${cd.root}`);
  await reconcile(cd, applied, io);
  if (applied.offline) {
    io.out('the cluster is offline (spec.offline): its instances are stopped, data kept');
    return 0;
  }
  const st = await waitAvailable(cd, timeoutSec * 1000, io);
  const restored = (await cd.readStatus())?.restore;
  if (spec.restore && restored?.backupTime) {
    io.out(`restored ${spec.restore.sourceNamespace}/${spec.restore.sourceName} from backup ${restored.backupTime}` +
      `${restored.binlogApplied ? ' and its binlogs' : ''} up to ${spec.restore.restorePoint}`);
    for (const w of restored.warnings ?? []) io.out(`warning: ${w}`);
  }
  printSummary(cd, st, io, applied.replicationSourceSecretName ? applied.replicationSource : undefined);
  if (values.detach) return 0;
  io.out('Running in the foreground; Ctrl-C stops the cluster (moco up -d runs it in the background).');
  await followUntilSignal(cd, io);
  return 0;
}

/** Waits until the coordinator reports the cluster Available and the primary endpoint is served; prints progress. */
export async function waitAvailable(cd: ClusterDir, timeoutMs: number, io: Io): Promise<StatusJson> {
  const started = Date.now();
  let last = '';
  for (;;) {
    const st = await clusterStatus(cd);
    const stored = await cd.readStatus();
    const fresh = st.observedAt !== null && Date.parse(st.observedAt) >= started - 1000;
    const healthy = stored?.conditions.find((c) => c.type === 'Healthy');
    const r = stored?.restore;
    const restoring = st.status.state === 'Restoring' && r?.phase ? ` (restore: ${r.phase}${r.bytes ? `, ${(r.bytes / 1e6).toFixed(0)} MB` : ''})` : '';
    const line = `state ${st.status.state ?? 'unknown'}${healthy ? `: ${healthy.message.replace(/^the current state is \w+: /, '')}` : ''}${restoring}`;
    if (fresh && line !== last) {
      io.out(`  ${line}`);
      last = line;
    }
    // A clone from the external source that cannot start or failed needs the user as well.
    if (st.status.state === 'Cloning') {
      const spec = await cd.readSpec();
      if (spec.replicationSourceSecretName && !spec.replicationSource) {
        throw new CliError(`the cluster waits (state Cloning) for Secret "${spec.replicationSourceSecretName}" with the external source's ` +
          'HOST, PORT, USER and PASSWORD; add it to the manifest as another document and run moco up -f again');
      }
      if (stored?.lastCloneFailure) {
        throw new CliError(`the clone from the external source failed: ${stored.lastCloneFailure.message}\n(the coordinator retries ` +
          `every 10 s; fix the source or the Secret and run moco up -f again, or remove the cluster with moco down --purge ${st.name})`);
      }
    }
    // A restore that fails needs the user: report it instead of waiting for the timeout.
    if (stored?.restore?.error && !stored.restoredTime) {
      throw new CliError(`the restore failed: ${stored.restore.error}\n(the coordinator retries every 30 s; fix the cause, or ` +
        `remove the cluster with moco down --purge ${st.name})`);
    }
    const primary = st.instances[st.status.currentPrimaryIndex];
    if (fresh && conditionTrue(stored, 'Available') && st.endpoints.primary && primary?.ready) return st;
    if (st.coordinator.pid === null && Date.now() - started > 5000) {
      throw new CliError(`the coordinator is not running; see ${path.join(cd.logsDir, 'coordinator.log')}`);
    }
    if (Date.now() - started > timeoutMs) {
      throw new CliError(`the cluster did not become available within ${Math.round(timeoutMs / 1000)} s (${line}); ` +
        `see moco status ${st.name}, ${path.join(cd.logsDir, 'coordinator.log')} and the instance logs under ${cd.path('instances')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function printSummary(cd: ClusterDir, st: StatusJson, io: Io, source?: ReplicationSource): void {
  const d = defaultDirFlag(cd.dir);
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

async function followUntilSignal(cd: ClusterDir, io: Io): Promise<void> {
  let seen = (await cd.readEvents()).length;
  const timer = setInterval(() => {
    void cd.readEvents().then((events) => {
      for (const e of events.slice(seen)) io.out(`${e.time} ${e.type} ${e.reason}: ${e.message}`);
      seen = events.length;
    });
  }, 1000);
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  clearInterval(timer);
  io.out('\nstopping the cluster...');
  await stopCluster(cd, io);
}

export async function stopCluster(cd: ClusterDir, io: Io): Promise<void> {
  // The coordinator first, so that instances going down cause no failover.
  await stopComponent(cd, 'coordinator');
  const cluster = await cd.readCluster();
  await Promise.all(cluster.instances.map((p) => stopInstance(cd, p.index)));
  await stopComponent(cd, 'endpoints');
  io.out(`stopped cluster ${cluster.namespace}/${cluster.name} (data kept in ${cd.root}; moco up${defaultDirFlag(cd.dir)} --name ${cluster.name} resumes it)`);
}

export async function down(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(argv, { purge: { type: 'boolean' } }, 'down');
  const cd = await resolveCluster(path.resolve(stateDir(values.dir)), positionals[0]);
  await stopCluster(cd, io);
  if (values.purge) {
    await fs.rm(cd.root, { recursive: true, force: true });
    io.out(`purged ${cd.root} (backups in object storage or a backup directory are never deleted)`);
  }
  return 0;
}

/** Before creating a cluster that restores: the bucket, the backups and the restore point must work. */
async function checkRestore(spec: ClusterSpec, dir: string, io: Io): Promise<void> {
  const r = spec.restore;
  if (!r) return;
  const bucket = openBucket(bucketTarget(r.jobConfig, dir));
  try {
    io.out(`checking the backups of ${r.sourceNamespace}/${r.sourceName} in ${bucket.describe()}...`);
    const choice = await planRestore(bucket, { name: r.sourceName, namespace: r.sourceNamespace }, r.restorePoint, AbortSignal.timeout(60_000));
    io.out(`will restore backup ${choice.time}${choice.applyBinlog ? ' and replay its binlogs' : ''} up to ${r.restorePoint}`);
    for (const w of choice.warnings) io.out(`warning: ${w}`);
  } catch (err) {
    throw new CliError(`cannot restore ${spec.namespace}/${spec.name}: ${messageOf(err)}; nothing was created`, 2);
  } finally {
    bucket.close();
  }
}
