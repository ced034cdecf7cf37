/** `moco up` and `moco down`: create, resume, change and stop a local cluster. */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { findMysqld } from '../agent/mysqld.ts';
import { checkUpdate, defaultManifest, ManifestError, parseManifest, type LoadedManifest } from '../platform/local/manifest.ts';
import type { ClusterSpec } from '../api/spec.ts';
import { messageOf } from '../shared/errors.ts';
import { bucketTarget } from '../backup/policy-target.ts';
import { planRestore } from '../backup/runner.ts';
import { openBucket } from '../backup/storage/index.ts';
import { projectRoot } from '../shared/paths.ts';
import {
  allocate, changePorts, checkPorts, ClusterBusyError, lockCluster, newClusterFile, startProcesses, stopCluster, stopStarted,
  type PortChoice, type Started,
} from '../platform/local/controller.ts';
import { ensureClusterPki, ensurePasswords } from '../platform/local/instance.ts';
import type { HeldLock } from '../platform/local/lock.ts';
import { componentPid, instancePids } from '../platform/local/processes.ts';
import { ClusterDir, listClusters, type ClusterFile } from '../platform/local/state.ts';
import { CliError, DIR_OPTION, dirFlag, parseCommand, stateDir, usageError, type Io } from './common.ts';
import { localTarget } from './local.ts';
import { interruptSignal, type Interrupt } from './interrupt.ts';
import { printSummary, waitAvailable } from './wait.ts';

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


/** A TCP port from a flag, or undefined when the flag is absent. */
function portFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw usageError(`--${name} ${v}: give a TCP port (1-65535); nothing was changed`);
  return n;
}

/** Notes about the fields of the user's manifest that have no effect on one machine. */
function localNotes(loaded: LoadedManifest, fromUser: boolean): string[] {
  if (!fromUser) return [];
  const install = findMysqld();
  const running = install ? `${install.mysqld} (${install.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${install.version})` : 'the mysqld found on this machine';
  const images = loaded.imageNotes.map((at) => `${at}: the image is not used locally; instances run ${running}`);
  return [...images, ...loaded.notApplyingLocally];
}

export async function up(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    ...DIR_OPTION, file: { type: 'string', short: 'f' }, name: { type: 'string' }, replicas: { type: 'string' },
    detach: { type: 'boolean', short: 'd' }, timeout: { type: 'string', default: '600' },
    'primary-port': { type: 'string' }, 'replica-port': { type: 'string' }, 'ports-from': { type: 'string' },
  }, 'up');
  if (positionals.length) throw usageError(`up: unexpected argument "${positionals[0]}"; use -f FILE for a manifest or --name NAME`);
  const dir = path.resolve(stateDir(values.dir));
  const replicas = values.replicas === undefined ? undefined : Number(values.replicas);
  if (replicas !== undefined && !(Number.isInteger(replicas) && replicas > 0 && replicas % 2 === 1)) {
    throw usageError(`--replicas ${values.replicas}: give a positive odd number (1, 3, 5, ...); nothing was changed`);
  }
  const timeoutSec = Number(values.timeout);
  if (!(timeoutSec > 0)) throw usageError(`--timeout ${values.timeout}: give seconds, e.g. 600`);
  const ports: PortChoice = {};
  const primaryPort = portFlag('primary-port', values['primary-port']);
  const replicaPort = portFlag('replica-port', values['replica-port']);
  const portsFrom = portFlag('ports-from', values['ports-from']);
  if (primaryPort !== undefined) ports.primaryPort = primaryPort;
  if (replicaPort !== undefined) ports.replicaPort = replicaPort;
  if (portsFrom !== undefined) ports.portsFrom = portsFrom;
  if (primaryPort !== undefined && primaryPort === replicaPort) throw usageError('--primary-port and --replica-port must differ');

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
    try {
      text = (await cd.exists()) ? await fs.readFile(cd.manifestFile, 'utf8') : defaultManifest({ name, replicas: replicas ?? 3 });
    } catch (err) {
      if (err instanceof ManifestError) throw usageError(`--name ${name}: ${err.problems.join('; ')}; nothing was changed`);
      throw err;
    }
  }
  if (replicas !== undefined) text = withReplicas(text, replicas);
  const loaded = loadManifest(text, source);
  const spec = loaded.spec;
  if (values.name && values.name !== spec.name) {
    throw usageError(`--name ${values.name} does not match metadata.name "${spec.name}" in ${source}; nothing was changed`);
  }
  const cd = new ClusterDir(dir, spec.name);
  const interrupt = interruptSignal(io);
  let lock: HeldLock;
  const existedBefore = await cd.exists();
  try {
    lock = lockCluster(cd);
  } catch (err) {
    interrupt.dispose();
    if (err instanceof ClusterBusyError) throw new CliError(err.message);
    throw err;
  }
  let started: Started | undefined;
  let completed = false;
  try {
    const applied = await prepare(cd, { text, source, spec, loaded, ports, fromUser: values.file !== undefined }, io, interrupt);
    interrupt.throwIfInterrupted();
    started = { instances: [], components: [], spawned: [] };
    await startProcesses(cd, applied, (l) => io.out(l), { signal: interrupt.signal, started });
    if (applied.offline) {
      io.out('the cluster is offline (spec.offline): its instances are stopped, data kept');
      completed = true;
      return 0;
    }
    const st = await waitAvailable(cd, { timeoutMs: timeoutSec * 1000, started: started.instances, signal: interrupt.signal }, io);
    const restored = (await cd.readStatus())?.restore;
    if (spec.restore && restored?.backupTime) {
      io.out(`restored ${spec.restore.sourceNamespace}/${spec.restore.sourceName} from backup ${restored.backupTime}` +
        `${restored.binlogApplied ? ' and its binlogs' : ''} up to ${spec.restore.restorePoint}`);
      for (const w of restored.warnings ?? []) io.out(`warning: ${w}`);
    }
    printSummary(cd, st, io, applied.replicationSourceSecretName ? applied.replicationSource : undefined);
    completed = true;
  } catch (err) {
    if (started && (started.instances.length > 0 || started.components.length > 0)) {
      io.out(interrupt.interrupted ? '\ninterrupted; stopping what this command started...' : '\nstopping what this command started...');
      await stopStarted(cd, started, (l) => io.out(`  ${l}`));
      io.out(`  (data kept in ${cd.root})`);
    }
    if (!existedBefore && !(await cd.exists())) await fs.rm(cd.root, { recursive: true, force: true });
    if (interrupt.interrupted) throw new CliError('interrupted', 130);
    throw err;
  } finally {
    lock.release();
    if (!completed || values.detach) interrupt.dispose();
  }
  if (values.detach) return 0;
  io.out('Running in the foreground; Ctrl-C stops the cluster (moco up -d runs it in the background).');
  await followUntilInterrupted(cd, io, interrupt);
  return 0;
}

interface Prepared {
  text: string;
  source: string;
  spec: ClusterSpec;
  loaded: LoadedManifest;
  ports: PortChoice;
  fromUser: boolean;
}

/**
 * Checks everything that can be checked before a process starts (the update rules, the restore's backups, the
 * ports), then writes the cluster's files. Returns the spec to run (the stored one while reconciliation is stopped).
 */
async function prepare(cd: ClusterDir, p: Prepared, io: Io, interrupt: Interrupt): Promise<ClusterSpec> {
  const { spec, text, source } = p;
  const exists = await cd.exists();
  let applied = spec;
  let pending = false;
  if (exists) {
    const previous = await cd.readSpec();
    if (previous.namespace !== spec.namespace) {
      throw usageError(`cluster "${spec.name}" in ${cd.dir} is in namespace ${previous.namespace}, the manifest says ${spec.namespace}; nothing was changed`);
    }
    try {
      checkUpdate(previous, spec);
    } catch (err) {
      if (err instanceof ManifestError) throw usageError(`cannot apply ${source} to cluster "${spec.name}"; nothing was changed:\n  ${err.problems.join('\n  ')}`);
      throw err;
    }
    const ann = await cd.readAnnotations();
    if (ann.reconciliationStopped && JSON.stringify(previous) !== JSON.stringify(spec)) {
      pending = true;
      applied = previous;
    }
  }
  ensureMysqld(io);
  if (!exists && spec.restore) await checkRestore(spec, cd.dir, io);
  interrupt.throwIfInterrupted();
  for (const note of localNotes(p.loaded, p.fromUser)) io.out(`note: ${note}`);
  const grows = !exists || (await cd.readSpec()).replicas < applied.replicas;
  if (grows && applied.replicas >= 5 && findMysqld()?.flavor === 'mariadb') {
    io.out(`note: with MariaDB a commit waits for one replica's acknowledgement (MySQL waits for ${Math.floor(applied.replicas / 2)}), so ` +
      `this ${applied.replicas}-instance cluster survives one failure without losing a write, not ${Math.floor(applied.replicas / 2)}: after two ` +
      'it stops taking writes (state Lost) rather than risk losing one (docs/local.md)');
  }

  const cluster: ClusterFile = exists ? await cd.readCluster() : await newClusterFile(spec, p.ports);
  if (exists) {
    const problems = await changePorts(cd, cluster, p.ports);
    if (problems.length > 0) throw usageError(`${problems.join('\n')}\nnothing was changed`);
  }
  await allocate(cluster, applied.replicas, p.ports.portsFrom);
  const taken = await checkPorts(cd, cluster, applied);
  if (taken.length > 0) {
    throw new CliError(`cannot start cluster "${spec.name}": ${taken.length === 1 ? taken[0] : `\n  ${taken.join('\n  ')}`}\n` +
      'stop that process, or choose other ports: moco up --primary-port P --replica-port P for the endpoints, ' +
      `--ports-from N for everything else (a running cluster must be stopped first); nothing was started`);
  }
  await fs.mkdir(cd.root, { recursive: true, mode: 0o700 });
  for (const d of [cd.runDir, cd.logsDir, cd.path('requests')]) await fs.mkdir(d, { recursive: true });
  await ensurePasswords(cd.passwordsDir);
  await ensureClusterPki(cd.pkiDir, cluster);
  if (pending) {
    await fs.writeFile(cd.path('pending-manifest.yaml'), text, { mode: 0o600 });
    io.out('reconciliation is stopped: the change is stored and applied by `moco start reconciliation`');
  } else {
    await cd.writeManifest(text);
  }
  await cd.writeCluster(cluster);
  io.out(`${exists ? 'resuming' : 'creating'} cluster ${spec.namespace}/${spec.name} with ${applied.replicas} instance${applied.replicas === 1 ? '' : 's'} in ${cd.root}`);
  return applied;
}

/** Prints the cluster's events until interrupted (then stops the cluster) or until the cluster is stopped elsewhere. */
async function followUntilInterrupted(cd: ClusterDir, io: Io, interrupt: Interrupt): Promise<void> {
  let seen = (await cd.readEvents()).length;
  let goneSince: number | undefined;
  const stoppedElsewhere = await new Promise<boolean>((resolve) => {
    const timer = setInterval(() => {
      void (async () => {
        const events = await cd.readEvents().catch(() => []);
        for (const e of events.slice(seen)) io.out(`${e.time} ${e.type} ${e.reason}: ${e.message}`);
        seen = Math.max(seen, events.length);
        const cluster = await cd.readCluster().catch(() => undefined);
        const alive = cluster !== undefined && (componentPid(cd, 'coordinator') !== null ||
          cluster.instances.some((p) => instancePids(cd, p.index).supervisor !== null));
        goneSince = alive ? undefined : goneSince ?? Date.now();
        if (goneSince !== undefined && Date.now() - goneSince > 2000) {
          clearInterval(timer);
          resolve(true);
        }
      })();
    }, 1000);
    interrupt.signal.addEventListener('abort', () => {
      clearInterval(timer);
      resolve(false);
    }, { once: true });
  });
  if (stoppedElsewhere) {
    io.out('the cluster was stopped by another command (moco down); exiting');
    interrupt.dispose();
    return;
  }
  io.out(`\n${interrupt.reason ?? 'interrupted'}: stopping cluster ${cd.name}...`);
  // Another command (moco up -d, moco reinit) may be at work on the cluster: wait for it rather than interleave.
  const lock = lockCluster(cd, 120_000);
  try {
    await stopCluster(cd, await cd.readCluster(), (l) => io.out(`  ${l}`));
  } finally {
    lock.release();
    interrupt.dispose();
  }
  io.out(`stopped cluster ${cd.name} (data kept in ${cd.root}; moco up${dirFlag(cd.dir)} --name ${cd.name} resumes it)`);
}

export async function down(argv: string[], io: Io): Promise<number> {
  const { cd, values } = await localTarget(argv, 'down', { purge: { type: 'boolean' } });
  let lock: HeldLock;
  try {
    lock = lockCluster(cd);
  } catch (err) {
    if (err instanceof ClusterBusyError) throw new CliError(err.message);
    throw err;
  }
  try {
    const cluster = await cd.readCluster();
    io.out(`stopping cluster ${cluster.namespace}/${cluster.name}...`);
    await stopCluster(cd, cluster, (l) => io.out(`  ${l}`));
    if (values.purge) {
      await fs.rm(cd.root, { recursive: true, force: true });
      io.out(`stopped and purged cluster ${cluster.namespace}/${cluster.name}: ${cd.root} is deleted ` +
        '(backups in object storage or a backup directory are never deleted)');
    } else {
      io.out(`stopped cluster ${cluster.namespace}/${cluster.name} (data kept in ${cd.root}; ` +
        `moco up${dirFlag(cd.dir)} --name ${cluster.name} resumes it)`);
    }
  } finally {
    lock.release();
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
