/** `moco switchover | mysql | credential | stop | start | reinit | status`. */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireMysqld } from '../agent/mysqld.ts';
import { checkUpdate, ManifestError, parseManifest } from '../cluster/manifest.ts';
import { conditionTrue } from '../coordinator/status.ts';
import { startInstance, stopInstance, markers, waitPid } from '../platform/local/processes.ts';
import type { ClusterDir } from '../platform/local/state.ts';
import { CliError, clientUser, parseCommand, resolveCluster, stateDir, usageError, type Io } from './common.ts';
import { clusterStatus, formatStatus } from './status.ts';
import { reconcile } from './up.ts';

async function target(argv: string[], command: string, options: Parameters<typeof parseCommand>[1] = {}) {
  const parsed = parseCommand(argv, options, command);
  const cd = await resolveCluster(path.resolve(stateDir(parsed.values.dir as string | undefined)), parsed.positionals[0]);
  return { cd, values: parsed.values as Record<string, string | boolean | undefined>, rest: parsed.positionals.slice(1) };
}

export async function status(argv: string[], io: Io): Promise<number> {
  const { cd, values } = await target(argv, 'status', { output: { type: 'string', short: 'o' } });
  if (values.output !== undefined && values.output !== 'json') throw usageError(`status: -o ${values.output}: only json is supported`);
  const st = await clusterStatus(cd);
  io.out(values.output === 'json' ? JSON.stringify(st, null, 2) : formatStatus(st));
  return 0;
}

export async function switchover(argv: string[], io: Io): Promise<number> {
  const { cd, values } = await target(argv, 'switchover', { 'no-wait': { type: 'boolean' }, timeout: { type: 'string', default: '120' } });
  const spec = await cd.readSpec();
  if (spec.offline) throw new CliError('offline cluster is not able to switch');
  if (spec.replicas === 1) throw new CliError('single-instance cluster is not able to switch');
  if ((await cd.readAnnotations()).clusteringStopped) {
    throw new CliError(`clustering of ${spec.name} is stopped, so nothing would switch; run moco start clustering ${spec.name} first`);
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
        `(see moco status ${spec.name} and the events in ${cd.eventsFile})`);
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

export async function mysqlClient(argv: string[]): Promise<number> {
  const sep = argv.indexOf('--');
  const { cd, values } = await target(sep < 0 ? argv : argv.slice(0, sep), 'mysql', { user: { type: 'string', short: 'u' }, index: { type: 'string' } });
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
      child.on('error', (err) => reject(new CliError(`cannot run ${client}: ${err.message}`)));
      child.on('exit', (code) => resolve(code ?? 1));
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
  await cd.writeAnnotations({ ...ann, [key]: action === 'stop' });
  io.out(`${action === 'stop' ? 'stopped' : 'started'} ${what} of ${ref}`);
  if (action === 'start' && what === 'reconciliation') await applyPending(cd, io);
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
    const { allocate } = await import('./up.ts');
    await allocate(cluster, spec.replicas);
    await cd.writeCluster(cluster);
    await fs.writeFile(cd.manifestFile, text, { mode: 0o600 });
    await cd.writeSpec(spec);
    await fs.rm(file);
    io.out('applied the change stored while reconciliation was stopped');
  }
  await reconcile(cd, spec, io);
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
  if (spec.replicas === 1 && !restoring) throw new CliError('reinit of the only instance of a single-instance cluster would delete all its data; refused');
  if ((st?.currentPrimaryIndex ?? 0) === index && !values.force && !restoring) {
    throw new CliError(`instance ${index} is the primary; run moco switchover ${spec.name} first (or pass --force to wipe it and let a failover happen)`);
  }
  io.out(`instance ${index}: stopping`);
  await stopInstance(cd, index);
  const layout = cd.instance(index);
  for (const p of [layout.dataDir, `${layout.dataDir}.staged`, path.join(layout.root, 'moco-initialized'), path.join(layout.root, '.moco-initializing')]) {
    await fs.rm(p, { recursive: true, force: true });
  }
  io.out(`instance ${index}: data removed; starting it empty`);
  startInstance(cd, index);
  if (!(await waitPid(cd.instancePidFile(index, 'agent'), markers.agent(cd, index), 60_000))) {
    throw new CliError(`instance ${index} did not start; see ${path.join(layout.root, 'supervisor.log')}`);
  }
  io.out(`instance ${index} re-initialized; the coordinator clones it from the primary (watch: moco status ${spec.name})`);
  return 0;
}
