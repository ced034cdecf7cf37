/**
 * Integration-test harness: real mysqld instances (whatever flavor is installed: MariaDB here, MySQL 8.4 where
 * its mysqld is on PATH), each under the local supervisor with an in-process agent daemon serving mTLS gRPC on
 * a free port. Everything started is stopped by PID, also when a test fails or the runner exits.
 */
import { promises as fs } from 'node:fs';
import { freePort } from '../../src/shared/net.ts';
import os from 'node:os';
import path from 'node:path';
import { requireMysqld, type MysqldInstall } from '../../src/agent/mysqld.ts';
import { initDataDir } from '../../src/agent/init.ts';
import { AgentDaemon } from '../../src/agent/daemon.ts';
import { createAgentMetrics } from '../../src/agent/metrics.ts';
import type { Passwords } from '../../src/shared/accounts.ts';
import { AgentClient } from '../../src/shared/agent-client.ts';
import { silentLogger, createLogger, type Logger } from '../../src/shared/logger.ts';
import type { PkiFiles } from '../../src/shared/tls.ts';
import { MysqldSupervisor } from '../../src/platform/local/supervisor.ts';
import {
  ensureClusterPki, ensurePasswords, instanceLayout, writeInstanceConfig, type InstanceLayout,
} from '../../src/platform/local/instance.ts';
import mysql from 'mysql2/promise';

const started = new Set<number>();
process.on('exit', () => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

export function testLogger(): Logger {
  return process.env.MOCO_TEST_LOG ? createLogger({ name: 'test', level: process.env.MOCO_TEST_LOG }) : silentLogger();
}

export { freePort };

export interface TestCluster {
  base: string;
  install: MysqldInstall;
  passwords: Passwords;
  pki: { coordinator: PkiFiles; agent: PkiFiles; backup: PkiFiles };
  instances: TestInstance[];
  /** Adds an instance (init, mysqld, agent). */
  add(options?: { init?: boolean; agentOptions?: Partial<{
    maxDelayMs: number; queueingWaitMs: number; accountCheckIntervalMs: number; logger: Logger;
    /** The agent's certificate files (default: the cluster PKI's agent pair). */
    tls: PkiFiles;
    tlsReloadIntervalMs: number;
  }>; }): Promise<TestInstance>;
  close(): Promise<void>;
}

export interface TestInstance {
  index: number;
  port: number;
  layout: InstanceLayout;
  supervisor: MysqldSupervisor;
  daemon: AgentDaemon;
  /** A client with the coordinator's identity. */
  client: AgentClient;
  grpcAddress: string;
  httpPort: number;
  /** A mysql2 connection over TCP as the given account. */
  connect(user?: string, password?: string): Promise<mysql.Connection>;
  /**
   * Stops the agent and starts a new one on the same mysqld (daemon, client, ports are replaced), running
   * `whileStopped` in between.
   */
  restartAgent(whileStopped?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** Creates a cluster directory with passwords and PKI; instances are added with `add()`. */
export async function createTestCluster(name = 'test'): Promise<TestCluster> {
  const install = requireMysqld();
  // Keep paths short: unix socket paths are limited to 107 characters.
  const base = await fs.mkdtemp(path.join(os.tmpdir(), `moco-${name.slice(0, 8)}-`));
  const passwords = await ensurePasswords(path.join(base, 'passwords'));
  const pki = await ensureClusterPki(path.join(base, 'pki'), { namespace: 'default', name });
  const instances: TestInstance[] = [];
  const log = testLogger();

  const cluster: TestCluster = {
    base, install, passwords, pki, instances,
    async add(options = {}) {
      const index = instances.length;
      const layout = instanceLayout(path.join(base, String(index)));
      const port = await freePort();
      await writeInstanceConfig({ install, layout, port, serverId: 100 + index });
      if (options.init ?? true) {
        await initDataDir({ install, myCnfPath: layout.myCnf, dataDir: layout.dataDir, passwords, log });
      }
      const supervisor = new MysqldSupervisor({
        mysqld: install.mysqld, myCnfPath: layout.myCnf, dataDir: layout.dataDir, logFile: layout.mysqldLog, errorLog: layout.errorLog, log,
      });
      supervisor.on('started', (pid: number) => started.add(pid));
      supervisor.on('exited', () => undefined);
      await supervisor.start();
      const makeDaemon = (): AgentDaemon => new AgentDaemon({
        clusterName: name, index, socketPath: layout.socket, dataDir: layout.dataDir, myCnfPath: layout.myCnf,
        passwords: { agent: passwords.AGENT_PASSWORD, replication: passwords.REPLICATION_PASSWORD, cloneDonor: passwords.CLONE_DONOR_PASSWORD },
        accountPasswords: passwords,
        statusTimeoutMs: 2000, maxDelayMs: options.agentOptions?.maxDelayMs ?? 60_000,
        queueingWaitMs: options.agentOptions?.queueingWaitMs ?? 5000,
        logger: options.agentOptions?.logger ?? log, metrics: createAgentMetrics(name, index, { processMetrics: false }),
        grpcAddress: '127.0.0.1:0', httpAddress: { host: '127.0.0.1', port: 0 }, tls: options.agentOptions?.tls ?? pki.agent,
        clusterNamespace: 'default',
        ...(options.agentOptions?.tlsReloadIntervalMs !== undefined ? { tlsReloadIntervalMs: options.agentOptions.tlsReloadIntervalMs } : {}),
        tools: { mariadbBackup: install.mariadbBackup ?? 'mariadb-backup', mbstream: install.mbstream ?? 'mbstream' },
        watchIntervalMs: 100, heartbeatMs: 1000, unreachableMs: 800, shutdownGraceMs: 5000,
        ...(options.agentOptions?.accountCheckIntervalMs !== undefined ? { accountCheckIntervalMs: options.agentOptions.accountCheckIntervalMs } : {}),
      });
      const daemon = makeDaemon();
      await daemon.start();
      await waitFor(() => daemon.agent.healthy(), 30_000, `mysqld ${index} to answer`);
      const grpcAddress = `127.0.0.1:${daemon.grpcPort}`;
      const client = new AgentClient(grpcAddress, pki.coordinator);
      const inst: TestInstance = {
        index, port, layout, supervisor, daemon, client, grpcAddress, httpPort: daemon.httpPort,
        connect: (user = 'moco-admin', password = passwords.ADMIN_PASSWORD) =>
          mysql.createConnection({ host: '127.0.0.1', port, user, password, supportBigNumbers: true }),
        async restartAgent(whileStopped) {
          await inst.daemon.stop();
          await whileStopped?.();
          inst.daemon = makeDaemon();
          await inst.daemon.start();
          inst.httpPort = inst.daemon.httpPort;
          inst.grpcAddress = `127.0.0.1:${inst.daemon.grpcPort}`;
          inst.client.close();
          inst.client = new AgentClient(inst.grpcAddress, pki.coordinator);
          await waitFor(() => inst.daemon.agent.healthy(), 30_000, `mysqld ${index} to answer the restarted agent`);
        },
        async stop() {
          inst.client.close();
          await inst.daemon.stop();
          await supervisor.stop(10_000);
        },
      };
      instances.push(inst);
      return inst;
    },
    async close() {
      await Promise.allSettled(instances.map((i) => i.stop()));
      for (const i of instances) if (i.supervisor.pid) started.delete(i.supervisor.pid);
      if (!process.env.MOCO_TEST_KEEP) await fs.rm(base, { recursive: true, force: true });
    },
  };
  return cluster;
}

/**
 * Polls `check` every 100 ms until it returns a truthy value, and returns that value; throws after `timeoutMs`
 * naming what was awaited (and the last error `check` threw).
 */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Makes `primary` a semi-sync primary and the others its replicas, through the agents' RPCs only. */
export async function formReplication(primary: TestInstance, replicas: TestInstance[]): Promise<void> {
  await primary.client.configurePrimary(Math.floor((replicas.length + 1) / 2));
  for (const r of replicas) {
    await r.client.setReadOnly();
    await r.client.configureReplica({ sourceHost: '127.0.0.1', sourcePort: primary.port, semiSync: true });
  }
  await primary.client.setWritable();
  await waitFor(async () => (await primary.client.getStatus()).semiSync?.sourceClients === replicas.length, 15_000,
    'every replica to connect as a semi-sync replica');
}
