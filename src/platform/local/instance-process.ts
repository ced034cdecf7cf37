/**
 * The local kubelet of one instance (`moco _instance ROOT INDEX`): writes my.cnf from the spec, prepares an
 * empty data directory (the init container), runs mysqld under the supervisor (restart with backoff, staged
 * data swap) and the agent as a separate process (restarted when it exits). SIGTERM stops both cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../shared/paths.ts';
import { AGENT_NODE_FLAGS } from '../../agent/config.ts';
import { initDataDir } from '../../agent/init.ts';
import { requireMysqld } from '../../agent/mysqld.ts';
import { loadPasswords } from '../../shared/accounts.ts';
import type { Logger } from '../../shared/logger.ts';
import { Backoff } from '../../shared/retry.ts';
import { ensureClusterPki, writeInstanceConfig } from './instance.ts';
import { MysqldSupervisor } from './supervisor.ts';
import { acquireLock, LockBusyError, type HeldLock } from './lock.ts';
import { ClusterDir, writeJsonAtomic, writePid } from './state.ts';
import { SUPERVISOR_STOP_PARTS } from './processes.ts';

/** Exit code of a supervisor that found its instance run by other processes. */
export const EXIT_LOCKED = 75;

export async function runInstance(dir: ClusterDir, index: number, log: Logger): Promise<void> {
  // One set of processes per instance: the lock is shared with mysqld and the agent, so it stays held while any
  // of them lives (a supervisor killed with SIGKILL leaves it held by its orphans until they are stopped).
  let lock: HeldLock;
  try {
    lock = acquireLock(dir.instanceLockFile(index));
  } catch (err) {
    if (!(err instanceof LockBusyError)) throw err;
    log.error({ index, holder: err.holder }, 'another set of processes runs this instance; not starting');
    process.exit(EXIT_LOCKED);
  }
  // A stop requested while the instance is still being prepared is carried out once its processes exist.
  let stopRequested = false;
  const stopHook: { now?: () => void } = {};
  const onSignal = (): void => {
    stopRequested = true;
    stopHook.now?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const supervisorPidFile = dir.instancePidFile(index, 'supervisor');
  await writePid(supervisorPidFile);
  const cluster = await dir.readCluster();
  const spec = await dir.readSpec();
  const ports = cluster.instances[index];
  if (!ports) throw new Error(`instance ${index} is not in ${dir.clusterFile}`);
  const install = requireMysqld();
  const layout = dir.instance(index);
  await writeInstanceConfig({
    install, layout, port: ports.mysqlPort, serverId: spec.serverIdBase + index, userConf: spec.mycnf,
    ...(spec.memoryBytes !== undefined ? { memoryBytes: spec.memoryBytes } : {}),
  });
  const passwords = await loadPasswords({}, dir.passwordsDir);
  if (await initDataDir({ install, myCnfPath: layout.myCnf, dataDir: layout.dataDir, passwords, log })) {
    log.info({ index }, 'initialised an empty data directory');
  }
  if (stopRequested) {
    await fs.rm(supervisorPidFile, { force: true });
    process.exit(0);
  }
  const pki = await ensureClusterPki(dir.pkiDir, cluster);
  const supervisor = new MysqldSupervisor({
    mysqld: install.mysqld, myCnfPath: layout.myCnf, dataDir: layout.dataDir, logFile: layout.mysqldLog, errorLog: layout.errorLog, log, inheritFds: [lock.fd],
  });
  const exits = new MysqldExits(mysqldExitFile(layout.root), layout.errorLog);
  supervisor.on('started', () => exits.started());
  supervisor.on('exited', (code: number | null, signal: string | null) => exits.exited(code, signal));
  await supervisor.start();

  let agent: ChildProcess | undefined;
  let stopping = false;
  // Restarted after 250 ms, then more slowly (up to 5 s) while it keeps exiting; a run of 10 s starts the delays over.
  const backoff = new Backoff({ initialMs: 250, maxMs: 5000, factor: 2, resetAfterMs: 10_000 });
  const agentPidFile = dir.instancePidFile(index, 'agent');
  const startAgent = (): void => {
    if (stopping) return;
    const logFd = openSync(path.join(layout.root, 'agent.log'), 'a');
    const args = [
      ...AGENT_NODE_FLAGS, path.join(projectRoot(), 'bin', 'moco-agent.js'), 'serve',
      '--cluster-name', cluster.name, '--cluster-namespace', cluster.namespace, '--index', String(index),
      '--socket', layout.socket, '--data-dir', layout.dataDir, '--mycnf', layout.myCnf,
      '--grpc-address', `127.0.0.1:${ports.grpcPort}`, '--http-address', `127.0.0.1:${ports.httpPort}`,
      '--tls-ca', pki.agent.caCert, '--tls-cert', pki.agent.cert, '--tls-key', pki.agent.key,
      '--passwords-dir', dir.passwordsDir, '--max-delay', `${spec.maxDelaySeconds}s`,
      '--log-level', process.env.MOCO_AGENT_LOG_LEVEL ?? 'info',
      ...(install.mariadbBackup ? ['--mariadb-backup', install.mariadbBackup] : []),
      ...(install.mbstream ? ['--mbstream', install.mbstream] : []),
    ];
    const started = Date.now();
    // The agent shares the instance lock too (fd 3).
    const child = spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd, lock.fd] });
    closeSync(logFd);
    agent = child;
    if (child.pid) void writePid(agentPidFile, child.pid);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      const delay = backoff.next(Date.now() - started);
      log.warn({ code, signal, restartInMs: delay }, 'agent exited; restarting');
      setTimeout(startAgent, delay);
    });
  };
  startAgent();

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ index }, 'stopping the agent and mysqld');
    const a = agent;
    if (a && a.exitCode === null && a.signalCode === null) {
      const exited = new Promise((r) => a.once('exit', r));
      a.kill('SIGTERM');
      const t = setTimeout(() => a.kill('SIGKILL'), SUPERVISOR_STOP_PARTS.agentMs);
      await exited;
      clearTimeout(t);
    }
    await supervisor.stop(SUPERVISOR_STOP_PARTS.mysqldMs, SUPERVISOR_STOP_PARTS.readyWaitMs);
    await fs.rm(agentPidFile, { force: true });
    await fs.rm(supervisorPidFile, { force: true });
    process.exit(0);
  };
  stopHook.now = () => void stop();
  if (stopRequested) stopHook.now();
}

/** Where the supervisor records mysqld's unexpected exits (read by `moco up` and `moco status`). */
export const mysqldExitFile = (instanceRoot: string): string => path.join(instanceRoot, 'run', 'mysqld-exits.json');

/** mysqld's unexpected exits since the supervisor started: how many in a row, and the last one's error lines. */
export interface MysqldExitRecord {
  /** Exits in a row that were not a clean shutdown, each after less than 10 s of running. */
  failuresInARow: number;
  last?: { time: string; code: number | null; signal: string | null; errors: string[] };
}

class MysqldExits {
  private record: MysqldExitRecord = { failuresInARow: 0 };
  private startedAt = 0;

  constructor(private readonly file: string, private readonly errorLog: string) {
    void writeJsonAtomic(file, this.record).catch(() => undefined);
  }

  started(): void {
    this.startedAt = Date.now();
  }

  exited(code: number | null, signal: string | null): void {
    if (code === 0) return; // a clean shutdown (a clone or restore restarts mysqld this way)
    const quick = Date.now() - this.startedAt < 10_000;
    this.record = {
      failuresInARow: quick ? this.record.failuresInARow + 1 : 1,
      last: { time: new Date().toISOString(), code, signal, errors: lastErrors(this.errorLog) },
    };
    void writeJsonAtomic(this.file, this.record).catch(() => undefined);
  }
}

/** The last few `[ERROR]` lines of mysqld's error log (the reason it could not start). */
function lastErrors(errorLog: string): string[] {
  try {
    const lines = readFileSync(errorLog, 'utf8').trimEnd().split('\n').slice(-40);
    return lines.filter((l) => l.includes('[ERROR]')).slice(-3).map((l) => l.replace(/^\S+\s+\S+\s+\d+\s+/, ''));
  } catch {
    return [];
  }
}
