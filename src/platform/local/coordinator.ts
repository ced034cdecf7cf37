/**
 * The local coordinator process (`moco _coordinator`): the cluster's ClusterManager over the state directory.
 * It can be killed and restarted at any time: mysqld, agents and the endpoints keep running without it, and
 * everything it needs is in the state directory.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import { probeReady } from '../../shared/net.ts';
import { messageOf } from '../../shared/errors.ts';
import { AgentClient } from '../../shared/agent-client.ts';
import type { Logger } from '../../shared/logger.ts';
import { ClusterManager, type ManagerPlatform } from '../../coordinator/manager.ts';
import { createClusterMetrics } from '../../coordinator/metrics.ts';
import type { Role } from '../../api/types.ts';
import { ensureClusterPki } from './instance.ts';
import { readRoles, writeRoles } from './roles.ts';
import { ClusterDir, writePid, type ClusterFile } from './state.ts';
import { BackupService } from './backups.ts';
import { loadPasswords } from '../../shared/accounts.ts';

/** The agent's readiness (GET /readyz); false when it does not answer within `timeoutMs`. */
export function readiness(httpPort: number, timeoutMs = 500): Promise<boolean> {
  return probeReady(httpPort, timeoutMs).result;
}

export interface CoordinatorHandle {
  manager: ClusterManager;
  stop(): Promise<void>;
}

export async function startCoordinator(dir: ClusterDir, log: Logger, options: { pollMs?: number } = {}): Promise<CoordinatorHandle> {
  const cluster: ClusterFile = await dir.readCluster();
  const pki = await ensureClusterPki(dir.pkiDir, cluster);
  const clients = new Map<number, AgentClient>();
  const ports = (i: number) => {
    const p = cluster.instances[i];
    if (!p) throw new Error(`instance ${i} has no ports in ${dir.clusterFile}`);
    return p;
  };
  const agent = (i: number): AgentClient => {
    let c = clients.get(i);
    if (!c) {
      c = new AgentClient(`127.0.0.1:${ports(i).grpcPort}`, pki.coordinator);
      clients.set(i, c);
    }
    return c;
  };
  const reloadCluster = async (replicas: number): Promise<void> => {
    if (cluster.instances.length < replicas) Object.assign(cluster, await dir.readCluster());
  };
  const metrics = createClusterMetrics(cluster.name, cluster.namespace);
  const platform: ManagerPlatform = {
    readSpec: async () => {
      const spec = await dir.readSpec();
      await reloadCluster(spec.replicas);
      return spec;
    },
    readStatus: () => dir.readStatus(),
    writeStatus: (s) => dir.writeStatus(s),
    readRoles: async (replicas) => {
      const file = await readRoles(dir.rolesFile);
      return Array.from({ length: replicas }, (_, i) => file?.instances.find((e) => e.index === i)?.role ?? '');
    },
    publishRoles: async (roles: Role[]) => {
      await writeRoles(dir.rolesFile, roles.map((role, index) => ({ index, role, mysqlPort: ports(index).mysqlPort, httpPort: ports(index).httpPort })));
    },
    switchoverRequested: () => dir.switchoverRequested(),
    clearSwitchoverRequest: () => dir.clearSwitchoverRequest(),
    annotations: () => dir.readAnnotations(),
    event: (type, reason, message) => void dir.appendEvent({ type, reason, message }).catch(() => undefined),
    readiness: (i) => readiness(ports(i).httpPort),
    address: (i) => ({ host: '127.0.0.1', port: ports(i).mysqlPort, agent: `127.0.0.1:${ports(i).grpcPort}` }),
    agent,
    passwords: async () => ({ ...await loadPasswords({}, dir.passwordsDir) }),
  };
  const manager = new ClusterManager({
    platform, log, metrics, pollMs: options.pollMs ?? 1000,
    decide: { roleSettleMs: Number(process.env.MOCO_ROLE_WAIT_MS ?? 100) },
  });
  await manager.start();
  const backups = new BackupService({
    dir, manager, metrics, agent, ready: (i) => readiness(ports(i).httpPort), log: log.child({ component: 'backup' }),
  });
  backups.start();
  await writePid(dir.pidFile('coordinator'));

  // Requests (switchover, stop/start) and spec changes are files: react to them at once.
  const watchers: FSWatcher[] = [];
  try {
    await mkdir(dir.path('requests'), { recursive: true });
    watchers.push(watch(dir.root, (_event, file) => {
      if (file === 'manifest.yaml' || file === 'annotations.json') manager.trigger(`${file} changed`);
    }));
    watchers.push(watch(dir.path('requests'), () => {
      manager.trigger('request');
      void backups.tick().catch(() => undefined);
    }));
  } catch {
    // polling covers it
  }
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
    } else {
      res.writeHead(404).end();
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject).listen(cluster.coordinatorHttpPort, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    // Metrics are not worth stopping the cluster's clustering for: say so and run without them.
    log.error({ err: messageOf(err), port: cluster.coordinatorHttpPort }, 'cannot serve /metrics; running without them');
  }
  return {
    manager,
    async stop() {
      for (const w of watchers) w.close();
      await backups.stop();
      await manager.stop();
      server.close();
      for (const c of clients.values()) c.close();
    },
  };
}
