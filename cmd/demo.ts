/**
 * `moco-agent demo`: one mysqld with its agent on this machine, prepared and driven the way a cluster's first
 * instance is (init, supervisor, agent, then ConfigurePrimary and SetWritable over mTLS gRPC). Runs until
 * Ctrl-C, then stops both cleanly. State lives in --dir, so a second run reuses the same data.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AgentDaemon } from '../src/agent/daemon.ts';
import { initDataDir } from '../src/agent/init.ts';
import { createAgentMetrics } from '../src/agent/metrics.ts';
import { requireMysqld } from '../src/agent/mysqld.ts';
import { stdio } from '../src/cli/common.ts';
import { ensureMysqld } from '../src/cli/up.ts';
import { AgentClient } from '../src/shared/agent-client.ts';
import { createLogger } from '../src/shared/logger.ts';
import { MysqldSupervisor } from '../src/platform/local/supervisor.ts';
import { ensureClusterPki, ensurePasswords, instanceLayout, writeInstanceConfig } from '../src/platform/local/instance.ts';

export async function runDemo(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' }, port: { type: 'string', default: '13306' }, 'grpc-port': { type: 'string', default: '19080' }, 'http-port': { type: 'string', default: '19081' } },
  });
  const dir = path.resolve(values.dir ?? path.join(process.env.MOCO_DIR ?? '.moco', 'agent-demo'));
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port ${values.port} is not a TCP port`);
  const log = createLogger({ name: 'moco-demo', level: process.env.MOCO_LOG_LEVEL ?? 'warn' });
  const say = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };

  ensureMysqld(stdio);
  const install = requireMysqld();
  say(`using ${install.flavor} ${install.version} (${install.mysqld}); state in ${dir}`);
  const layout = instanceLayout(path.join(dir, '0'));
  const passwordsDir = path.join(dir, 'passwords');
  const passwords = await ensurePasswords(passwordsDir);
  const pki = await ensureClusterPki(path.join(dir, 'pki'), { namespace: 'default', name: 'demo' });
  await writeInstanceConfig({ install, layout, port, serverId: 1 });
  if (await initDataDir({ install, myCnfPath: layout.myCnf, dataDir: layout.dataDir, passwords, log })) say('initialised a new data directory');

  const supervisor = new MysqldSupervisor({ mysqld: install.mysqld, myCnfPath: layout.myCnf, dataDir: layout.dataDir, logFile: layout.mysqldLog, log });
  await supervisor.start();
  const daemon = new AgentDaemon({
    clusterName: 'demo', index: 0, socketPath: layout.socket, dataDir: layout.dataDir, myCnfPath: layout.myCnf,
    passwords: { agent: passwords.AGENT_PASSWORD, replication: passwords.REPLICATION_PASSWORD, cloneDonor: passwords.CLONE_DONOR_PASSWORD },
    accountPasswords: passwords,
    statusTimeoutMs: 2000, maxDelayMs: 60_000, queueingWaitMs: 5000, logger: log, metrics: createAgentMetrics('demo', 0),
    grpcAddress: `127.0.0.1:${values['grpc-port']}`, httpAddress: { host: '127.0.0.1', port: Number(values['http-port']) },
    tls: pki.agent, tools: { mariadbBackup: install.mariadbBackup ?? 'mariadb-backup', mbstream: install.mbstream ?? 'mbstream' },
    watchIntervalMs: 100, heartbeatMs: 1000, unreachableMs: 800, shutdownGraceMs: 5000,
  });
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) process.exit(130);
    stopping = true;
    say('\nstopping the agent and mysqld...');
    await daemon.stop();
    await supervisor.stop();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  await daemon.start();

  const client = new AgentClient(`127.0.0.1:${daemon.grpcPort}`, pki.coordinator);
  const deadline = Date.now() + 30_000;
  while (!(await daemon.agent.healthy())) {
    if (Date.now() > deadline) throw new Error(`mysqld did not start; see ${layout.mysqldLog} and ${layout.errorLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await client.configurePrimary(0);
  await client.setWritable();
  const st = await client.getStatus();
  say(`
mysqld ${st.version} is up on 127.0.0.1:${port} as a writable single-instance primary.
  connect:  ${install.client ?? 'mysql'} -h 127.0.0.1 -P ${port} -u moco-writable -p"$(cat ${path.join(passwordsDir, 'WRITABLE_PASSWORD')})"
  agent:    gRPC (mTLS) 127.0.0.1:${daemon.grpcPort}, certificates in ${path.join(dir, 'pki')}
  probes:   curl http://127.0.0.1:${daemon.httpPort}/readyz   metrics: curl http://127.0.0.1:${daemon.httpPort}/metrics
Press Ctrl-C to stop.`);
}
