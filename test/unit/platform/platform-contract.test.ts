/**
 * The platform port's contract (test/contract/platform.ts) run against the local platform (a temporary state
 * directory, agents faked at the port's agent interface, readiness from small /readyz servers) and against the
 * in-memory platform the manager tests use.
 */
import { promises as fs } from 'node:fs';
import YAML from 'yaml';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ClusterSpec } from '../../../src/api/spec.ts';
import { readHeartbeat } from '../../../src/platform/local/heartbeat.ts';
import { ensurePasswords } from '../../../src/platform/local/instance.ts';
import { defaultManifest, parseManifest } from '../../../src/platform/local/manifest.ts';
import { LocalPlatform, LocalStatusStore } from '../../../src/platform/local/platform.ts';
import { ClusterDir, type ClusterFile } from '../../../src/platform/local/state.ts';
import { describePlatformContract, fakeAgents, type PlatformUnderTest } from '../../contract/platform.ts';
import { MemoryPlatform } from '../../helpers/memory-platform.ts';
import { spec as specOf } from '../coordinator/builders.ts';

const SPEC: ClusterSpec = specOf({ name: 'contract', namespace: 'team-a', replicas: 3 });

/** The local cluster's manifest: SPEC's name, namespace and size, `maxDelaySeconds` when given. */
function manifest(maxDelaySeconds?: number): string {
  const doc = YAML.parse(defaultManifest({ name: SPEC.name, namespace: SPEC.namespace, replicas: SPEC.replicas })) as { spec: Record<string, unknown> };
  if (maxDelaySeconds !== undefined) doc.spec.maxDelaySeconds = maxDelaySeconds;
  return YAML.stringify(doc);
}

/** A /readyz server whose answer the test sets; closing it makes the instance unreachable. */
async function readyzServer(): Promise<{ port: number; set(ready: boolean): void; close(): Promise<void> }> {
  let ready = true;
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/readyz' && ready ? 200 : 503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  return {
    port,
    set: (r) => { ready = r; },
    close: async () => {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function localPlatform(): Promise<PlatformUnderTest> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-contract-'));
  const dir = new ClusterDir(root, SPEC.name);
  await fs.mkdir(dir.root, { recursive: true });
  const servers = await Promise.all([0, 1, 2].map(() => readyzServer()));
  const cluster: ClusterFile = {
    name: SPEC.name, namespace: SPEC.namespace, createdAt: new Date().toISOString(), primaryPort: 1, replicaPort: 2, coordinatorHttpPort: 3,
    instances: servers.map((s, index) => ({ index, mysqlPort: 23306 + index, grpcPort: 29000 + index, httpPort: s.port })),
  };
  await dir.writeCluster(cluster);
  await dir.writeManifest(manifest());
  const passwords = { ...await ensurePasswords(dir.passwordsDir) };
  const agents = fakeAgents();
  const platform = await LocalPlatform.open(dir, { agent: agents.make });
  return {
    platform, spec: parseManifest(manifest()).spec, passwords,
    otherStore: () => new LocalStatusStore(dir),
    changeSpec: async () => {
      await dir.writeManifest(manifest(17));
      return parseManifest(manifest(17)).spec;
    },
    setAnnotations: (a) => dir.writeAnnotations(a),
    requestSwitchover: () => dir.requestSwitchover(),
    setReadiness: async (i, r) => {
      const s = servers[i];
      if (!s) throw new Error(`no instance ${i}`);
      if (r === 'unreachable') await s.close();
      else s.set(r === 'ready');
    },
    events: async () => {
      await platform.flushEvents();
      return (await dir.readEvents()).map(({ type, reason, message }) => ({ type, reason, message }));
    },
    lastHeartbeat: () => readHeartbeat(dir),
    agentFor: agents.agentFor,
    close: async () => {
      platform.close();
      await Promise.all(servers.map((s) => s.close()));
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

async function memoryPlatform(): Promise<PlatformUnderTest> {
  const agents = fakeAgents();
  const p = new MemoryPlatform(SPEC, agents.make);
  return {
    platform: p, spec: SPEC, passwords: p.passwordsValue,
    otherStore: () => p.otherStore(),
    changeSpec: async () => {
      p.spec = { ...SPEC, maxDelaySeconds: 17 };
      return p.spec;
    },
    setAnnotations: async (a) => { p.annotations = { ...a }; },
    requestSwitchover: async () => { p.switchover = true; },
    setReadiness: async (i, r) => { p.ready.set(i, r === 'ready'); },
    events: async () => [...p.events],
    lastHeartbeat: async () => {
      const last = p.heartbeats.at(-1);
      return last ? { observedAt: last.toISOString() } : undefined;
    },
    agentFor: agents.agentFor,
    close: async () => undefined,
  };
}

describePlatformContract('local (state directory)', localPlatform);
describePlatformContract('in-memory (manager tests)', memoryPlatform);
