/**
 * The local kubelet of one instance (`moco _instance ROOT INDEX`): writes my.cnf from the spec, prepares an
 * empty data directory (the init container), runs mysqld under the supervisor (restart with backoff, staged
 * data swap) and the agent as a separate process (restarted when it exits). SIGTERM stops both cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../shared/paths.ts';
import { AGENT_NODE_FLAGS } from '../../agent/config.ts';
import { initDataDir } from '../../agent/init.ts';
import { requireMysqld } from '../../agent/mysqld.ts';
import { loadPasswords } from '../../agent/users.ts';
import type { Logger } from '../../shared/logger.ts';
import { ensureClusterPki, writeInstanceConfig } from './instance.ts';
import { MysqldSupervisor } from './supervisor.ts';
import { ClusterDir, writePid } from './state.ts';

export async function runInstance(dir: ClusterDir, index: number, log: Logger): Promise<void> {
  await writePid(dir.instancePidFile(index, 'supervisor'));
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
  const pki = await ensureClusterPki(dir.pkiDir);
  const supervisor = new MysqldSupervisor({ mysqld: install.mysqld, myCnfPath: layout.myCnf, dataDir: layout.dataDir, logFile: layout.mysqldLog, log });
  await supervisor.start();

  let agent: ChildProcess | undefined;
  let stopping = false;
  let backoff = 250;
  const agentPidFile = dir.instancePidFile(index, 'agent');
  const startAgent = (): void => {
    if (stopping) return;
    const logFd = openSync(path.join(layout.root, 'agent.log'), 'a');
    const args = [
      ...AGENT_NODE_FLAGS, path.join(projectRoot(), 'bin', 'moco-agent.js'), 'serve',
      '--cluster-name', cluster.name, '--index', String(index),
      '--socket', layout.socket, '--data-dir', layout.dataDir, '--mycnf', layout.myCnf,
      '--grpc-address', `127.0.0.1:${ports.grpcPort}`, '--http-address', `127.0.0.1:${ports.httpPort}`,
      '--tls-ca', pki.agent.caCert, '--tls-cert', pki.agent.cert, '--tls-key', pki.agent.key,
      '--passwords-dir', dir.passwordsDir, '--max-delay', `${spec.maxDelaySeconds}s`,
      '--log-level', process.env.MOCO_AGENT_LOG_LEVEL ?? 'info',
      ...(install.mariadbBackup ? ['--mariadb-backup', install.mariadbBackup] : []),
      ...(install.mbstream ? ['--mbstream', install.mbstream] : []),
    ];
    const started = Date.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    agent = child;
    if (child.pid) void writePid(agentPidFile, child.pid);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      if (Date.now() - started > 10_000) backoff = 250;
      log.warn({ code, signal, restartInMs: backoff }, 'agent exited; restarting');
      setTimeout(startAgent, backoff);
      backoff = Math.min(backoff * 2, 5000);
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
      const t = setTimeout(() => a.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    await supervisor.stop(60_000);
    await fs.rm(agentPidFile, { force: true });
    await fs.rm(dir.instancePidFile(index, 'supervisor'), { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
