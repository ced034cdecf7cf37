/**
 * End-to-end operations on local clusters, through the `moco` CLI as a user would run it: errant replica and
 * reinit, scaling with clone, stop/start clustering, a coordinator killed and restarted under load, refused
 * manifests, and the small CLI commands. Every scenario has its own cluster, destroyed afterwards.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import YAML from 'yaml';
import { defaultManifest } from '../../src/platform/local/manifest.ts';
import type { StatusJson } from '../../src/platform/local/client.ts';
import { LocalCluster, Writer, lost, runMocoDirFirst, waitFor } from './local-cluster.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const condition = (s: StatusJson, type: string): string | undefined => s.status.conditions.find((c) => c.type === type)?.status;

const pidsOf = (s: StatusJson): Array<StatusJson['instances'][number]['pids']> => s.instances.map((i) => ({ ...i.pids }));

/** Inserts ids [from, to] through the primary endpoint (creating e2e.w first). */
async function insertRows(c: LocalCluster, from: number, to: number): Promise<number[]> {
  await Writer.prepare(c);
  const conn = await c.connect('primary', 'moco-writable');
  try {
    const ids = Array.from({ length: to - from + 1 }, (_, k) => from + k);
    for (const id of ids) await conn.query('INSERT INTO e2e.w (id) VALUES (?)', [id]);
    return ids;
  } finally {
    await conn.end();
  }
}

/** `SELECT @@port` over `n` new connections through the replica endpoint. */
async function replicaEndpointPorts(c: LocalCluster, n: number): Promise<number[]> {
  const st = await c.status();
  const port = Number(st.endpoints.replica?.split(':')[1]);
  const password = c.password('moco-readonly');
  const ports: number[] = [];
  for (let k = 0; k < n; k++) {
    const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'moco-readonly', password, connectTimeout: 3000 });
    try {
      const [rows] = await conn.query('SELECT @@port AS p');
      ports.push(Number((rows as Array<{ p: number }>)[0]?.p));
    } finally {
      await conn.end();
    }
  }
  return ports;
}

/** A query on instance `i`'s own port as moco-admin. */
async function queryInstance(c: LocalCluster, i: number, sql: string): Promise<Array<Record<string, unknown>>> {
  const conn = await c.connect(i, 'moco-admin');
  try {
    const [rows] = await conn.query(sql);
    return rows as Array<Record<string, unknown>>;
  } finally {
    await conn.end();
  }
}

/** Prints how long a scenario took when it ends. */
function timed(label: string): () => void {
  const t0 = Date.now();
  return () => console.log(`${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

describe('errant replica', () => {
  let c: LocalCluster | undefined;
  after(async () => { await c?.destroy(); });

  it('is detected, leaves the replica endpoint, and moco reinit clones it back', async () => {
    const done = timed('errant replica');
    c = await LocalCluster.up('errant', { replicas: 3, timeoutSeconds: 120 });
    await c.waitHealthy(60_000, 3);
    const ids = await insertRows(c, 1, 20);
    const cl = c;
    await waitFor(async () => lost(ids, await cl.rows(2)).length === 0, 20_000, 'instance 2 to replicate the rows');

    const agent = await c.connectAsAgent(2);
    try {
      await agent.query('CREATE DATABASE errant_db');
    } finally {
      await agent.end();
    }

    const st = await c.waitStatus((s) => s.status.errantReplicas === 1 && s.instances[2]?.role === '' && s.status.state === 'Degraded',
      30_000, 'instance 2 to be errant and out of the replica endpoint');
    assert.deepEqual(st.status.errantReplicaList, [2]);
    assert.equal(st.status.currentPrimaryIndex, 0);
    assert.equal(st.instances[1]?.role, 'replica');
    // The endpoints re-read the roles file every 200 ms.
    await sleep(600);
    const ports = await replicaEndpointPorts(c, 8);
    assert.deepEqual(ports, Array(8).fill(st.instances[1]?.port), 'every replica-endpoint connection reaches instance 1');

    const r = await c.moco(['reinit', 'errant', '--index', '2']);
    assert.equal(r.code, 0, `moco reinit failed:\n${r.stdout}\n${r.stderr}`);
    const healthy = await c.waitStatus((s) => s.status.state === 'Healthy' && s.status.errantReplicas === 0 &&
      s.instances.every((i) => i.ready), 60_000, 'the cluster to be Healthy again after reinit');
    assert.deepEqual(healthy.status.errantReplicaList, []);
    assert.equal(healthy.instances[2]?.role, 'replica');
    assert.deepEqual(lost(ids, await c.rows(2)), [], 'instance 2 holds every row written before');
    assert.deepEqual(await queryInstance(c, 2, "SHOW DATABASES LIKE 'errant_db'"), [], 'errant_db is gone from instance 2');
    done();
  });
});

describe('scale 1 -> 3 -> 5 with clone', () => {
  let c: LocalCluster | undefined;
  after(async () => { await c?.destroy(); });

  it('adds cloned instances, refuses to shrink, and a single instance cannot switch over', async () => {
    const done = timed('scale');
    c = await LocalCluster.up('scale', { replicas: 1, timeoutSeconds: 120 });
    const one = await c.waitHealthy(60_000, 1);
    assert.equal(one.instances.length, 1);

    const sw = await c.moco(['switchover', 'scale']);
    assert.notEqual(sw.code, 0);
    assert.match(sw.stderr, /single-instance cluster is not able to switch/);

    const ids = await insertRows(c, 1, 50);

    for (const n of [3, 5]) {
      const r = await c.moco(['up', '--name', 'scale', '--replicas', String(n), '-d', '--timeout', '120']);
      assert.equal(r.code, 0, `moco up --replicas ${n} failed:\n${r.stdout}\n${r.stderr}`);
      const st = await c.waitHealthy(90_000, n);
      assert.equal(st.instances.length, n);
      assert.equal(st.status.currentPrimaryIndex, 0);
      for (let i = 0; i < n; i++) assert.deepEqual(lost(ids, await c.rows(i)), [], `instance ${i} holds every row (replicas ${n})`);
    }

    const before5 = await c.status();
    const shrink = await c.moco(['up', '--name', 'scale', '--replicas', '3', '-d']);
    assert.notEqual(shrink.code, 0);
    assert.match(shrink.stderr, /shrink|cannot/i);
    const after5 = await c.status();
    assert.equal(after5.replicas, 5);
    assert.equal(after5.instances.length, 5);
    assert.deepEqual(pidsOf(after5), pidsOf(before5));
    done();
  });
});

describe('stop/start clustering', () => {
  let c: LocalCluster | undefined;
  after(async () => { await c?.destroy(); });

  it('no failover while stopped; failover once started again', async () => {
    const done = timed('stop/start clustering');
    c = await LocalCluster.up('clust', { replicas: 3, timeoutSeconds: 120 });
    const st0 = await c.waitHealthy(60_000, 3);
    const P = st0.status.currentPrimaryIndex;
    // Some data: like the seed system, a failover needs replicas holding transactions (an empty cluster is Lost).
    const ids = await insertRows(c, 1, 20);

    const stop = await c.moco(['stop', 'clustering', 'clust']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /stopped clustering of MySQLCluster/);
    const again = await c.moco(['stop', 'clustering', 'clust']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already stopped/);
    await c.waitStatus((s) => condition(s, 'ClusteringActive') === 'False', 10_000, 'ClusteringActive False');

    await c.signalInstance(P, 'SIGKILL');
    const until = Date.now() + 8000;
    while (Date.now() < until) {
      const s = await c.status();
      assert.equal(s.status.currentPrimaryIndex, P, 'no failover while clustering is stopped');
      assert.equal(condition(s, 'ClusteringActive'), 'False');
      await sleep(500);
    }

    const start = await c.moco(['start', 'clustering', 'clust']);
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, /started clustering of MySQLCluster/);
    const t0 = Date.now();
    const st1 = await c.waitStatus((s) => s.status.currentPrimaryIndex !== P && condition(s, 'Available') === 'True',
      30_000, 'a failover after start clustering');
    console.log(`failover after start clustering: ${Date.now() - t0} ms, new primary ${st1.status.currentPrimaryIndex}`);
    assert.equal(condition(st1, 'ClusteringActive'), 'True');
    const cl = c;
    await waitFor(async () => lost(ids, await cl.rows('primary')).length === 0, 20_000, 'the new primary to serve every row');
    done();
  });
});

describe('coordinator killed and restarted mid-run', () => {
  let c: LocalCluster | undefined;
  let writer: Writer | undefined;
  after(async () => {
    await writer?.stop();
    await c?.destroy();
  });

  it('clients see nothing; moco up -d brings it back without restarting an instance', async () => {
    const done = timed('coordinator restart');
    c = await LocalCluster.up('coord', { replicas: 3, timeoutSeconds: 120 });
    await c.waitHealthy(60_000, 3);
    await Writer.prepare(c);
    writer = new Writer(c);
    writer.start();
    await writer.progress(20);

    const st0 = await c.status();
    const coordPid = st0.coordinator.pid;
    assert.ok(coordPid, 'the coordinator runs');
    const pids0 = pidsOf(st0);
    const errors0 = writer.errors;
    const acked0 = writer.acked.length;
    process.kill(coordPid, 'SIGKILL');
    await sleep(3000);
    assert.equal(writer.errors, errors0, 'no write failed while the coordinator was gone');
    assert.ok(writer.acked.length > acked0 + 10, `writes kept being acknowledged (${writer.acked.length - acked0} in 3 s)`);
    const gone = await c.status();
    assert.equal(gone.coordinator.pid, null, 'the coordinator is not running');

    const r = await c.moco(['up', '-d', '--name', 'coord', '--timeout', '60']);
    assert.equal(r.code, 0, `moco up failed:\n${r.stdout}\n${r.stderr}`);
    const st1 = await c.waitHealthy(60_000, 3);
    assert.ok(st1.coordinator.pid !== null && st1.coordinator.pid !== coordPid, 'a new coordinator runs');
    assert.deepEqual(pidsOf(st1), pids0, 'no supervisor, mysqld or agent was restarted');
    assert.equal(st1.status.currentPrimaryIndex, st0.status.currentPrimaryIndex);
    await writer.progress(20);
    await writer.stop();
    assert.equal(writer.errors, errors0, 'no write failed across the coordinator restart');
    assert.deepEqual(lost(writer.acked, await c.rows('primary')), [], 'no acknowledged write lost');
    done();
  });
});

describe('bad manifests and CLI commands', () => {
  let c: LocalCluster;
  const name = 'badm';
  before(async () => {
    c = await LocalCluster.up(name, { manifest: defaultManifest({ name, replicas: 3 }), timeoutSeconds: 120 });
    await c.waitHealthy(60_000, 3);
  });
  after(async () => { await c?.destroy(); });

  /** The default manifest with `edit` applied to its spec. */
  const manifest = (edit: (spec: Record<string, unknown>) => void): string => {
    const doc = YAML.parse(defaultManifest({ name, replicas: 3 })) as { spec: Record<string, unknown> };
    edit(doc.spec);
    return YAML.stringify(doc);
  };

  const cases: Array<{ what: string; text: string; expect: RegExp[] }> = [
    { what: 'even replicas', text: manifest((s) => { s.replicas = 4; }), expect: [/spec\.replicas/, /even/] },
    { what: 'misspelled spec.replica', text: manifest((s) => { delete s.replicas; s.replica = 3; }), expect: [/spec\.replica\b/, /unknown field/] },
    { what: 'misspelled spec.maxDelaySecond', text: manifest((s) => { s.maxDelaySecond = 10; }), expect: [/spec\.maxDelaySecond\b/, /unknown field/] },
    { what: 'decreased replicas', text: manifest((s) => { s.replicas = 1; }), expect: [/spec\.replicas/, /shrink/] },
  ];

  it('refuses bad manifests with exit code 2 and changes nothing', async () => {
    const done = timed('bad manifests');
    const before0 = await c.status();
    const stored = path.join(c.dir, name, 'manifest.yaml');
    const storedText = await fs.readFile(stored, 'utf8');
    const check = async (what: string, r: { code: number; stdout: string; stderr: string }, expect: RegExp[]): Promise<void> => {
      assert.equal(r.code, 2, `${what}: exit code\n${r.stdout}\n${r.stderr}`);
      for (const e of expect) assert.match(r.stderr, e, `${what}: stderr`);
      const now = await c.status();
      assert.equal(now.replicas, before0.replicas, `${what}: replicas`);
      assert.equal(now.instances.length, before0.instances.length, `${what}: instances`);
      assert.equal(now.status.currentPrimaryIndex, before0.status.currentPrimaryIndex, `${what}: primary`);
      assert.deepEqual(pidsOf(now), pidsOf(before0), `${what}: pids`);
      assert.equal(now.coordinator.pid, before0.coordinator.pid, `${what}: coordinator pid`);
      assert.equal(await fs.readFile(stored, 'utf8'), storedText, `${what}: the stored manifest`);
    };
    for (const k of cases) {
      const file = path.join(c.dir, `bad-${k.what.replace(/\W+/g, '-')}.yaml`);
      await fs.writeFile(file, k.text);
      await check(k.what, await c.moco(['up', '-f', file, '-d']), k.expect);
    }
    await check('--replicas 2', await c.moco(['up', '--name', name, '--replicas', '2', '-d']), [/--replicas 2/, /odd/]);
    done();
  });

  it('moco credential prints passwords', async () => {
    const plain = await c.moco(['credential', '-u', 'writable', name]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^[0-9a-f]{32}\n$/);
    assert.equal(plain.stdout.trim(), c.password('moco-writable'));
    const cnf = await c.moco(['credential', '-u', 'writable', '--format', 'mycnf', name]);
    assert.equal(cnf.code, 0, cnf.stderr);
    assert.match(cnf.stdout, /^\[client\]$/m);
    assert.match(cnf.stdout, /^user=moco-writable$/m);
    assert.ok(cnf.stdout.includes(plain.stdout.trim()), 'the mycnf form holds the password');
  });

  it('moco mysql runs the client', async () => {
    const r = await runMocoDirFirst(c.dir, ['mysql', name, '-u', 'writable', '--', '-N', '-e', 'SELECT 1']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stdout.trim(), '1');
  });

  it("the seed's guide as moco-writable, literally; the mysql schema stays out of its reach", async () => {
    const writable = async (sql: string) => runMocoDirFirst(c.dir, ['mysql', '-u', 'moco-writable', name, '--', '-e', sql]);
    for (const sql of ["CREATE USER 'foo'@'%' IDENTIFIED BY 'bar'", 'CREATE DATABASE db1', "GRANT ALL ON db1.* TO 'foo'@'%'"]) {
      const r = await writable(sql);
      assert.equal(r.code, 0, `${sql}: ${r.stdout}\n${r.stderr}`);
    }
    const st = await c.status();
    const foo = await mysql.createConnection({ host: '127.0.0.1', port: Number(st.endpoints.primary?.split(':')[1]), user: 'foo', password: 'bar', connectTimeout: 3000 });
    try {
      await foo.query('CREATE TABLE db1.t (id INT PRIMARY KEY)');
      await foo.query('INSERT INTO db1.t VALUES (1)');
    } finally {
      await foo.end();
    }
    const version = await runMocoDirFirst(c.dir, ['mysql', '-u', 'moco-writable', name, '--', '-N', '-e', 'SELECT VERSION()']);
    const grantTable = /mariadb/i.test(version.stdout) ? 'mysql.global_priv SET Priv = Priv' : "mysql.user SET Super_priv = 'Y'";
    const r = await writable(`UPDATE ${grantTable} WHERE User = 'moco-writable'`);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /ERROR 1142 .*UPDATE command denied to user 'moco-writable'/);
  });

  it('moco status -o json has the documented shape', async () => {
    const r = await c.moco(['status', name, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    const obj = (v: unknown, what: string): Record<string, unknown> => {
      assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `${what} is an object`);
      return v as Record<string, unknown>;
    };
    const has = (o: Record<string, unknown>, keys: string[], what: string): void => {
      for (const k of keys) assert.ok(k in o, `${what}.${k} is present`);
    };
    has(s, ['name', 'namespace', 'replicas', 'status', 'observedAt', 'coordinator', 'endpoints', 'instances'], 'status');
    assert.equal(s.name, name);
    assert.equal(s.namespace, 'default');
    assert.equal(s.replicas, 3);
    const st = obj(s.status, 'status');
    has(st, ['currentPrimaryIndex', 'conditions', 'syncedReplicas', 'errantReplicas', 'errantReplicaList', 'backup', 'restoredTime'], 'status');
    assert.equal(typeof st.currentPrimaryIndex, 'number');
    assert.ok(Array.isArray(st.conditions));
    assert.equal(typeof st.syncedReplicas, 'number');
    assert.equal(typeof st.errantReplicas, 'number');
    assert.ok(Array.isArray(st.errantReplicaList));
    obj(st.backup, 'status.backup');
    assert.equal(typeof s.observedAt, 'string');
    assert.equal(typeof obj(s.coordinator, 'coordinator').pid, 'number');
    const ep = obj(s.endpoints, 'endpoints');
    assert.match(String(ep.primary), /^127\.0\.0\.1:\d+$/);
    assert.match(String(ep.replica), /^127\.0\.0\.1:\d+$/);
    assert.ok(Array.isArray(s.instances));
    assert.equal(s.instances.length, 3);
    for (const [k, raw] of (s.instances as unknown[]).entries()) {
      const i = obj(raw, `instances[${k}]`);
      has(i, ['index', 'role', 'ready', 'port', 'pids'], `instances[${k}]`);
      assert.equal(i.index, k);
      assert.ok(['primary', 'replica', ''].includes(String(i.role)));
      assert.equal(typeof i.ready, 'boolean');
      assert.equal(typeof i.port, 'number');
      const p = obj(i.pids, `instances[${k}].pids`);
      for (const w of ['supervisor', 'mysqld', 'agent']) assert.equal(typeof p[w], 'number', `instances[${k}].pids.${w}`);
    }
  });
});
