/** `moco switchover | mysql | credential | stop | start | reinit | read-only`. */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireMysqld } from '../agent/mysqld.ts';
import { checkUpdate, ManifestError, parseManifest } from '../platform/local/manifest.ts';
import { conditionTrue } from '../coordinator/status.ts';
import { AgentClient } from '../shared/agent-client.ts';
import { messageOf } from '../shared/errors.ts';
import {
  allocate, ClusterBusyError, lockCluster, startProcesses, stopInstanceReported,
} from '../platform/local/controller.ts';
import { ensureClusterPki } from '../platform/local/instance.ts';
import type { HeldLock } from '../platform/local/lock.ts';
import { startInstance, markers, waitPid } from '../platform/local/processes.ts';
import type { ClusterDir } from '../platform/local/state.ts';
import { CliError, clientUser, parseCommand, resolveCluster, stateDir, usageError, type Io } from './common.ts';
import { clusterStatus } from './status.ts';

async function target(argv: string[], command: string, options: Parameters<typeof parseCommand>[1] = {}) {
  const parsed = parseCommand(argv, options, command);
  const cd = await resolveCluster(path.resolve(stateDir(parsed.values.dir as string | undefined)), parsed.positionals[0]);
  return { cd, values: parsed.values as Record<string, string | boolean | undefined>, rest: parsed.positionals.slice(1) };
}

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

export async function switchover(argv: string[], io: Io): Promise<number> {
  const { cd, values } = await target(argv, 'switchover', { 'no-wait': { type: 'boolean' }, timeout: { type: 'string', default: '120' } });
  const spec = await cd.readSpec();
  if (spec.offline) throw usageError('offline cluster is not able to switch');
  if (spec.replicas === 1) throw usageError('single-instance cluster is not able to switch');
  if ((await cd.readAnnotations()).clusteringStopped) {
    throw usageError(`clustering of ${spec.name} is stopped, so nothing would switch; run moco start clustering ${spec.name} first`);
  }
  const before = (await cd.readStatus())?.currentPrimaryIndex ?? 0;
  const started = Date.now();
  await cd.requestSwitchover();
  if (values['no-wait']) {
    io.out(`switchover of ${spec.name} requested (the primary is instance ${before})`);
    return 0;
  }
  const timeoutMs = Number(values.timeout) * 1000;
  for (;;) {
    const st = await cd.readStatus();
    if (st && st.currentPrimaryIndex !== before && conditionTrue(st, 'Available') && !(await cd.switchoverRequested())) {
      const live = await clusterStatus(cd);
      if (live.instances[st.currentPrimaryIndex]?.ready) {
        io.out(`switched the primary of ${spec.name} from instance ${before} to instance ${st.currentPrimaryIndex} in ${((Date.now() - started) / 1000).toFixed(2)} s`);
        return 0;
      }
    }
    if (Date.now() - started > timeoutMs) {
      throw new CliError(`the switchover did not finish within ${values.timeout} s; the request stays until it does ` +
        `(see moco status ${spec.name} and moco events ${spec.name})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function passwordOf(cd: ClusterDir, key: string): Promise<string> {
  return (await fs.readFile(path.join(cd.passwordsDir, key), 'utf8')).trim();
}

export async function credential(argv: string[], io: Io): Promise<number> {
  const { cd, values } = await target(argv, 'credential', { user: { type: 'string', short: 'u' }, format: { type: 'string', default: 'plain' } });
  const { user, passwordKey } = clientUser(values.user as string | undefined);
  const pw = await passwordOf(cd, passwordKey);
  if (values.format === 'plain') io.out(pw);
  else if (values.format === 'mycnf') io.out(`[client]\nuser=${user}\npassword="${pw}"`);
  else throw usageError(`credential: --format ${values.format}: use plain or mycnf`);
  return 0;
}

/**
 * `moco mysql [-i] [-t] [-u USER] [--index I] NAME [-- ARGS]`. As with `kubectl moco mysql`, `-i` passes standard
 * input and `-t` asks for a terminal; locally the client always shares this terminal, so both are accepted as given.
 */
export async function mysqlClient(argv: string[]): Promise<number> {
  const sep = argv.indexOf('--');
  const { cd, values } = await target(sep < 0 ? argv : argv.slice(0, sep), 'mysql', {
    user: { type: 'string', short: 'u' }, index: { type: 'string' },
    stdin: { type: 'boolean', short: 'i' }, tty: { type: 'boolean', short: 't' },
  });
  const extra = sep < 0 ? [] : argv.slice(sep + 1);
  const { user, passwordKey } = clientUser(values.user as string | undefined);
  const [cluster, spec, st] = await Promise.all([cd.readCluster(), cd.readSpec(), cd.readStatus()]);
  const index = values.index === undefined ? st?.currentPrimaryIndex ?? 0 : Number(values.index);
  if (!Number.isInteger(index) || index < 0 || index >= spec.replicas) {
    throw usageError(`--index ${values.index}: the cluster has instances 0 to ${spec.replicas - 1}`);
  }
  const port = cluster.instances[index]?.mysqlPort as number;
  const client = requireMysqld().client ?? 'mysql';
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-mysql-'));
  const cnf = path.join(tmp, 'my.cnf');
  await fs.writeFile(cnf, `[client]\nuser=${user}\npassword="${await passwordOf(cd, passwordKey)}"\nhost=127.0.0.1\nport=${port}\n`, { mode: 0o600 });
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(client, [`--defaults-extra-file=${cnf}`, ...extra], { stdio: 'inherit' });
      // The client handles Ctrl-C itself (it cancels the running statement); we wait for it.
      const ignore = (): void => undefined;
      process.on('SIGINT', ignore);
      child.on('error', (err) => reject(new CliError(`cannot run ${client}: ${err.message}`)));
      child.on('exit', (code) => {
        process.removeListener('SIGINT', ignore);
        resolve(code ?? 1);
      });
    });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

export async function stopStart(action: 'stop' | 'start', argv: string[], io: Io): Promise<number> {
  const what = argv[0];
  if (what !== 'clustering' && what !== 'reconciliation') throw usageError(`${action}: say what to ${action}: clustering or reconciliation`);
  const { cd } = await target(argv.slice(1), `${action} ${what}`);
  const ann = await cd.readAnnotations();
  const key = what === 'clustering' ? 'clusteringStopped' : 'reconciliationStopped';
  const cluster = await cd.readCluster();
  const ref = `MySQLCluster "${cluster.namespace}/${cluster.name}"`;
  if ((action === 'stop') === !!ann[key]) {
    io.out(action === 'stop' ? `The ${what} is already stopped.` : `The ${what} is already running.`);
    return 0;
  }
  if (action === 'start' && what === 'reconciliation') {
    await withClusterLock(cd, async () => {
      await cd.writeAnnotations({ ...ann, [key]: false });
      io.out(`started ${what} of ${ref}`);
      await applyPending(cd, io);
    });
    return 0;
  }
  await cd.writeAnnotations({ ...ann, [key]: action === 'stop' });
  io.out(`${action === 'stop' ? 'stopped' : 'started'} ${what} of ${ref}`);
  return 0;
}

/** Applies a manifest stored while reconciliation was stopped. */
async function applyPending(cd: ClusterDir, io: Io): Promise<void> {
  const file = cd.path('pending-manifest.yaml');
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  let spec = await cd.readSpec();
  if (text !== undefined) {
    try {
      const next = parseManifest(text, { source: file }).spec;
      checkUpdate(spec, next);
      spec = next;
    } catch (err) {
      if (err instanceof ManifestError) throw new CliError(`the stored change cannot be applied:\n  ${err.problems.join('\n  ')}`);
      throw err;
    }
    const cluster = await cd.readCluster();
    await allocate(cluster, spec.replicas);
    await cd.writeCluster(cluster);
    await cd.writeManifest(text);
    await fs.rm(file);
    io.out('applied the change stored while reconciliation was stopped');
  }
  await startProcesses(cd, spec, (l) => io.out(l));
}

export async function reinit(argv: string[], io: Io): Promise<number> {
  const { cd, values } = await target(argv, 'reinit', { index: { type: 'string' }, force: { type: 'boolean' } });
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

/**
 * `moco read-only NAME`: the seed's "Set to Read Only" workflow in one command that works on both flavors. On MySQL
 * the seed's statement (`SET GLOBAL super_read_only=1` as moco-admin) works as well; on MariaDB no account handed
 * to users may set read_only, so the agents do it. Clustering must be stopped first, as the seed says, or the
 * coordinator would make the primary writable again; `moco start clustering NAME` leaves read-only mode.
 */
export async function readOnly(argv: string[], io: Io): Promise<number> {
  const { cd } = await target(argv, 'read-only');
  const [spec, cluster, ann] = await Promise.all([cd.readSpec(), cd.readCluster(), cd.readAnnotations()]);
  if (!ann.clusteringStopped) {
    throw usageError(`clustering of ${spec.name} is running, and the coordinator keeps the primary writable; ` +
      `run moco stop clustering ${spec.name} first, then this command; nothing was changed`);
  }
  const pki = await ensureClusterPki(cd.pkiDir, cluster);
  const failures: string[] = [];
  await Promise.all(cluster.instances.slice(0, spec.replicas).map(async (p) => {
    const agent = new AgentClient(`127.0.0.1:${p.grpcPort}`, pki.coordinator);
    try {
      try {
        await agent.setReadOnly({ timeoutMs: 10_000 });
      } catch (err) {
        // A long transaction can hold it up: end the user sessions, as a switchover does, and try again.
        if ((err as { code?: string }).code !== 'TIMEOUT') throw err;
        await agent.killConnections({ timeoutMs: 10_000 });
        await agent.setReadOnly({ timeoutMs: 10_000 });
      }
      io.out(`instance ${p.index}: read-only`);
    } catch (err) {
      failures.push(`instance ${p.index}: ${messageOf(err)}`);
    } finally {
      agent.close();
    }
  }));
  if (failures.length > 0) {
    throw new CliError(`could not make every instance read-only:\n  ${failures.join('\n  ')}\n` +
      '(an instance that is down stays read-only when it starts: instances always start read-only)');
  }
  const variable = requireMysqld().flavor === 'mariadb' ? 'read_only' : 'super_read_only';
  io.out(`cluster ${spec.name} is read-only for every user account.
  check:  moco mysql -it ${spec.name} -- -e "SELECT @@${variable}"
  leave:  moco start clustering ${spec.name}   (the coordinator makes the primary writable again)`);
  return 0;
}
