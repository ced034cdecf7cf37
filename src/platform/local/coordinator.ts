/**
 * The local coordinator process (`moco _coordinator`): the cluster's ClusterManager over the state directory.
 * It can be killed and restarted at any time: mysqld, agents and the endpoints keep running without it, and
 * everything it needs is in the state directory.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import { messageOf } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { ClusterManager } from '../../coordinator/manager.ts';
import { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import { AgentClient } from '../../shared/agent-client.ts';
import { ensureClusterPki } from './instance.ts';
import { writePid, type ClusterDir } from './state.ts';
import { BackupService } from './backups.ts';
import { LocalPlatform, LocalStatusStore, readiness } from './platform.ts';

export { readiness };

export interface CoordinatorHandle {
  manager: ClusterManager;
  stop(): Promise<void>;
}

export async function startCoordinator(dir: ClusterDir, log: Logger, options: { pollMs?: number } = {}): Promise<CoordinatorHandle> {
  const platform = await LocalPlatform.open(dir);
  const cluster = await dir.readCluster();
  // One registry for the process; this process runs one cluster's manager (the Kubernetes controller runs many).
  const coordinatorMetrics = new CoordinatorMetrics();
  const metrics = coordinatorMetrics.forCluster(platform.name, platform.namespace);
  const manager = new ClusterManager({
    platform, log, metrics, pollMs: options.pollMs ?? 1000,
    decide: { roleSettleMs: Number(process.env.MOCO_ROLE_WAIT_MS ?? 100) },
  });
  await manager.start();
  // The backup side has a status store and agent connections of its own, as a Job in another process would have.
  const pki = await ensureClusterPki(dir.pkiDir, platform);
  const backupAgents = new Map<number, AgentClient>();
  const backupAgent = (i: number): AgentClient => {
    let c = backupAgents.get(i);
    if (!c) {
      c = new AgentClient(platform.address(i).agent, pki.coordinator);
      backupAgents.set(i, c);
    }
    return c;
  };
  const backups = new BackupService({
    dir, status: new LocalStatusStore(dir), metrics, agent: backupAgent, ready: (i) => platform.readiness(i),
    log: log.child({ component: 'backup' }), onRestored: () => manager.trigger('restored'),
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
      void coordinatorMetrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': coordinatorMetrics.registry.contentType });
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
      platform.close();
      for (const c of backupAgents.values()) c.close();
    },
  };
}
