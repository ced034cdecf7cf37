import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';

import { EndpointsProxy, runEndpoints, type EndpointsOptions } from '../../../src/platform/local/endpoints.ts';
import { writeRoles, type Role } from '../../../src/platform/local/roles.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** A fake mysqld: greets with `hello from N\n`, then echoes. */
async function fakeMysqld(n: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s)).on('error', () => {});
    s.write(`hello from ${n}\n`);
    s.pipe(s);
  });
  const port = await listen(server);
  return { port, close: () => new Promise<void>((r) => { sockets.forEach((s) => s.destroy()); server.close(() => r()); }) };
}

/** A fake agent whose /readyz answers `status`. */
async function fakeAgent() {
  const agent = { status: 200, port: 0, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => res.writeHead(req.url === '/readyz' ? agent.status : 404).end());
  agent.port = await listen(server);
  agent.close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  return agent;
}

interface Client { sock: net.Socket; data: string; closed: boolean; openedAt: number; closedAt: number }

function connect(port: number): Client {
  const sock = net.connect(port, '127.0.0.1');
  const c: Client = { sock, data: '', closed: false, openedAt: Date.now(), closedAt: 0 };
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (c.data += d)).on('error', () => {});
  sock.on('close', () => Object.assign(c, { closed: true, closedAt: Date.now() }));
  return c;
}

const greeted = (c: Client) => /hello from (\d+)\n/.exec(c.data)?.[1];

async function cluster(t: TestContext, n: number, opts: Partial<EndpointsOptions> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'moco-endpoints-'));
  const mysqlds = await Promise.all(Array.from({ length: n }, (_, i) => fakeMysqld(i)));
  const agents = await Promise.all(Array.from({ length: n }, () => fakeAgent()));
  const rolesFile = join(dir, 'roles.json');
  const proxy = new EndpointsProxy({ rolesFile, primaryPort: 0, replicaPort: 0, readinessIntervalMs: 50, rolesPollMs: 50, connectHoldMs: 400, ...opts });
  const ports = await proxy.start();
  const clients: Client[] = [];
  t.after(async () => {
    clients.forEach((c) => c.sock.destroy());
    await proxy.stop();
    await Promise.all([...mysqlds, ...agents].map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });
  const roles = (r: Role[]) =>
    writeRoles(rolesFile, r.map((role, index) => ({ index, role, mysqlPort: mysqlds[index]!.port, httpPort: agents[index]!.port })));
  const open = (kind: 'primary' | 'replica') => {
    const c = connect(kind === 'primary' ? ports.primaryPort : ports.replicaPort);
    clients.push(c);
    return c;
  };
  return { proxy, ports, mysqlds, agents, roles, open, dir, rolesFile };
}

describe('EndpointsProxy', () => {
  it('routes the primary endpoint to the ready primary and pipes both ways', async (t) => {
    const { proxy, roles, open } = await cluster(t, 2);
    await roles(['primary', 'replica']);
    await waitUntil(() => proxy.snapshot().primary === 0, 'primary 0 ready');
    const c = open('primary');
    await waitUntil(() => greeted(c) === '0', 'greeting from 0');
    c.sock.write('ping\n');
    await waitUntil(() => c.data === 'hello from 0\nping\n', 'echo');
    assert.deepEqual(proxy.snapshot(), { primary: 0, replicas: [1], connections: { primary: 1, replica: 0 } });
  });

  it('holds a client while the primary is not ready and routes it once it becomes ready', async (t) => {
    const { proxy, roles, open, agents } = await cluster(t, 1, { connectHoldMs: 500 });
    agents[0]!.status = 503;
    await roles(['primary']);
    await sleep(100); // several probes: still not ready
    assert.equal(proxy.snapshot().primary, undefined);
    const c = open('primary');
    await sleep(100);
    assert.equal(c.data, '');
    assert.equal(c.closed, false);
    agents[0]!.status = 200;
    await waitUntil(() => greeted(c) === '0', 'held client routed to 0');
    assert.ok(Date.now() - c.openedAt < 500);
    await sleep(500); // past connectHoldMs: a routed client stays open
    assert.equal(c.closed, false);
  });

  it('closes a held client after connectHoldMs when no primary appears', async (t) => {
    const { roles, open, agents } = await cluster(t, 1, { connectHoldMs: 300 });
    agents[0]!.status = 500;
    await roles(['primary']);
    const c = open('primary');
    await waitUntil(() => c.closed, 'held client closed');
    assert.equal(c.data, '');
    assert.ok(c.closedAt - c.openedAt >= 250, `closed after ${c.closedAt - c.openedAt} ms`);
  });

  it('cuts connections to a demoted primary and routes new ones to the new primary', async (t) => {
    const { proxy, roles, open } = await cluster(t, 2);
    await roles(['primary', 'replica']);
    await waitUntil(() => proxy.snapshot().primary === 0 && proxy.snapshot().replicas.length === 1, 'roles applied');
    const old = open('primary');
    const rep = open('replica');
    await waitUntil(() => greeted(old) === '0' && greeted(rep) === '1', 'greetings');
    await roles(['replica', 'primary']);
    await waitUntil(() => old.closed && rep.closed, 'old connections cut');
    await waitUntil(() => proxy.snapshot().primary === 1, 'primary 1');
    const c = open('primary');
    await waitUntil(() => greeted(c) === '1', 'greeting from 1');
  });

  it('does not cut connections when readiness flips', async (t) => {
    const { proxy, roles, open, agents } = await cluster(t, 1);
    await roles(['primary']);
    await waitUntil(() => proxy.snapshot().primary === 0, 'primary ready');
    const c = open('primary');
    await waitUntil(() => greeted(c) === '0', 'greeting');
    agents[0]!.status = 503;
    await waitUntil(() => proxy.snapshot().primary === undefined, 'primary not ready');
    await sleep(100);
    assert.equal(c.closed, false);
    assert.equal(proxy.snapshot().connections.primary, 1);
  });

  it('round-robins the replica endpoint over ready replicas only', async (t) => {
    const { proxy, roles, open, agents } = await cluster(t, 4);
    agents[3]!.status = 503;
    await roles(['primary', 'replica', 'replica', 'replica']);
    await waitUntil(() => proxy.snapshot().replicas.join() === '1,2', 'replicas 1,2 ready');
    const cs = [open('replica'), open('replica'), open('replica'), open('replica')];
    await waitUntil(() => cs.every((c) => greeted(c) !== undefined), 'greetings');
    const got = cs.map(greeted).sort();
    assert.deepEqual(got, ['1', '1', '2', '2']);
    assert.equal(proxy.snapshot().connections.replica, 4);
  });

  it('cuts replica connections of an instance that loses the replica role or becomes primary', async (t) => {
    const { proxy, roles, open } = await cluster(t, 3);
    await roles(['primary', 'replica', 'replica']);
    await waitUntil(() => proxy.snapshot().replicas.join() === '1,2', 'replicas ready');
    const cs = [open('replica'), open('replica')];
    await waitUntil(() => cs.every((c) => greeted(c) !== undefined), 'greetings');
    const to1 = cs.find((c) => greeted(c) === '1')!;
    const to2 = cs.find((c) => greeted(c) === '2')!;
    await roles(['primary', '', 'replica']); // 1 is errant
    await waitUntil(() => to1.closed, 'connection to 1 cut');
    await sleep(100);
    assert.equal(to2.closed, false);
    to2.sock.write('still\n');
    await waitUntil(() => to2.data.endsWith('still\n'), 'echo via 2');
    await roles(['replica', '', 'primary']); // 2 is promoted
    await waitUntil(() => to2.closed, 'connection to the promoted 2 cut');
    await waitUntil(() => proxy.snapshot().primary === 2, 'primary 2');
    assert.deepEqual(proxy.snapshot().connections, { primary: 0, replica: 0 });
  });

  it('closes the client when the upstream connect fails', async (t) => {
    const { proxy, roles, open, mysqlds } = await cluster(t, 1);
    await mysqlds[0]!.close();
    await roles(['primary']);
    await waitUntil(() => proxy.snapshot().primary === 0, 'primary ready');
    const c = open('primary');
    await waitUntil(() => c.closed, 'client closed');
    assert.equal(c.data, '');
    assert.ok(c.closedAt - c.openedAt < 300);
  });

  it('holds then closes clients while the roles file is missing, and picks it up when written', async (t) => {
    const { proxy, roles, open } = await cluster(t, 1, { connectHoldMs: 300 });
    const c = open('primary');
    await sleep(100);
    assert.equal(c.closed, false);
    await waitUntil(() => c.closed, 'held client closed');
    assert.equal(c.data, '');
    assert.ok(c.closedAt - c.openedAt >= 250);
    await roles(['primary']);
    await waitUntil(() => proxy.snapshot().primary === 0, 'roles picked up');
  });

  it('stop() closes listeners, proxied and held connections', async (t) => {
    const { proxy, ports, roles, open } = await cluster(t, 2, { connectHoldMs: 5000 });
    await roles(['primary', '']);
    await waitUntil(() => proxy.snapshot().primary === 0, 'primary ready');
    const p = open('primary');
    const held = open('replica');
    await waitUntil(() => greeted(p) === '0', 'greeting');
    await proxy.stop();
    await waitUntil(() => p.closed && held.closed, 'all closed', 1000);
    const late = connect(ports.primaryPort);
    await waitUntil(() => late.closed, 'refused');
    assert.equal(late.data, '');
  });

  it('runEndpoints writes the ports file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'moco-endpoints-'));
    const portsFile = join(dir, 'ports.json');
    const proxy = await runEndpoints({ rolesFile: join(dir, 'roles.json'), primaryPort: 0, replicaPort: 0, portsFile });
    t.after(async () => {
      await proxy.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const ports = JSON.parse(await readFile(portsFile, 'utf8')) as { primary: number; replica: number; pid: number };
    assert.equal(ports.pid, process.pid);
    assert.ok(ports.primary > 0 && ports.replica > 0 && ports.primary !== ports.replica);
  });
});
