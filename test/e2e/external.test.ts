/**
 * Replication from an external source, end to end through the CLI (the seed's "replication" e2e scenario on
 * local clusters): a one-instance cluster plays the external mysqld; a 3-instance cluster with
 * spec.replicationSourceSecretName clones it, stays read-only and follows it through a switchover and a
 * failover; clearing the field makes it an ordinary writable cluster. A missing Secret or wrong credentials
 * make `moco up -d` fail fast with the reason.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import YAML from 'yaml';
import { defaultManifest } from '../../src/platform/local/manifest.ts';
import type { StatusJson } from '../../src/platform/local/client.ts';
import { LocalCluster, waitFor } from './local-cluster.ts';

const DONOR = { user: 'ext-donor', password: 'donor-pw-1' };

/** A 3-instance manifest named `name` replicating from `port`, with the Secret (or without, or with `password`). */
function manifest(name: string, port: number, o: { secret?: boolean; password?: string; detached?: boolean } = {}): string {
  const cluster = YAML.parse(defaultManifest({ name, replicas: 3 })) as { spec: Record<string, unknown> };
  if (!o.detached) cluster.spec.replicationSourceSecretName = 'donor';
  const docs = [YAML.stringify(cluster)];
  if (o.secret ?? true) {
    docs.push(YAML.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'donor' },
      stringData: { HOST: '127.0.0.1', PORT: String(port), USER: DONOR.user, PASSWORD: o.password ?? DONOR.password } }));
  }
  return docs.join('---\n');
}

async function query(c: LocalCluster, to: 'primary' | number, sql: string, user: 'moco-admin' | 'moco-writable' = 'moco-admin'): Promise<Record<string, unknown>[]> {
  const conn = await c.connect(to, user);
  try {
    return (await conn.query(sql))[0] as Record<string, unknown>[];
  } finally {
    await conn.end();
  }
}

const ids = async (c: LocalCluster, to: 'primary' | number): Promise<string> =>
  (await query(c, to, 'SELECT GROUP_CONCAT(id ORDER BY id) AS x FROM shop.items'))[0]?.x as string;

describe('replication from an external source', () => {
  let source: LocalCluster;
  let repl: LocalCluster | undefined;
  let sourcePort = 0;
  let next = 4;

  async function insertAtSource(): Promise<string> {
    await query(source, 'primary', `INSERT INTO shop.items VALUES (${next++}, 'x')`, 'moco-writable');
    return ids(source, 'primary');
  }

  async function everywhere(c: LocalCluster, want: string): Promise<void> {
    for (const i of [0, 1, 2]) {
      const st = await c.status();
      if (!st.instances[i]?.pids.mysqld) continue;
      await waitFor(async () => (await ids(c, i).catch(() => '')) === want, 30_000, `instance ${i} to have rows ${want}`);
    }
  }

  before(async () => {
    source = await LocalCluster.up('src', { replicas: 1 });
    sourcePort = (await source.status()).instances[0]?.port as number;
    const c = await source.connect('primary', 'moco-admin');
    await c.query('CREATE DATABASE shop');
    await c.query('CREATE TABLE shop.items (id INT PRIMARY KEY, v VARCHAR(20))');
    await c.query("INSERT INTO shop.items VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    await c.query("CREATE USER 'shop-app'@'%' IDENTIFIED BY 'app-pw'");
    await c.query("GRANT SELECT ON shop.* TO 'shop-app'@'%'");
    await c.query(`CREATE USER '${DONOR.user}'@'%' IDENTIFIED BY '${DONOR.password}'`);
    await c.query(`GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, RELOAD, BINLOG MONITOR, REPLICATION SLAVE ON *.* TO '${DONOR.user}'@'%'`);
    await c.end();
  });
  after(async () => {
    await repl?.destroy();
    await source?.destroy();
  });

  it('moco up -d fails fast, naming the cause, when the Secret is missing or its credentials are wrong', async () => {
    await assert.rejects(LocalCluster.up('nosecret', { manifest: manifest('nosecret', sourcePort, { secret: false }), timeoutSeconds: 120 }),
      /waits \(state Cloning\) for Secret "donor"/);
    await assert.rejects(LocalCluster.up('badpw', { manifest: manifest('badpw', sourcePort, { password: 'wrong' }), timeoutSeconds: 120 }),
      /the clone from the external source failed: .*Access denied/s);
  });

  it('a 3-instance cluster clones the source, stays read-only and replicates from it (async)', async () => {
    repl = await LocalCluster.up('repl', { manifest: manifest('repl', sourcePort), timeoutSeconds: 300 });
    const st = await repl.waitHealthy(120_000);
    assert.equal(st.status.currentPrimaryIndex, 0);
    const full = JSON.parse(readFileSync(path.join(repl.dir, 'repl', 'status.json'), 'utf8')) as { cloned: boolean };
    assert.equal(full.cloned, true);
    const events = readFileSync(path.join(repl.dir, 'repl', 'events.jsonl'), 'utf8');
    assert.match(events, /"InitCloned"/);
    await everywhere(repl, '1,2,3');
    // The application account came along.
    const app = await mysql.createConnection({ host: '127.0.0.1', port: st.instances[1]?.port, user: 'shop-app', password: 'app-pw' });
    await app.end();
    // Writes through the primary endpoint are refused: the primary is read-only.
    await assert.rejects(query(repl, 'primary', "INSERT INTO shop.items VALUES (100, 'no')", 'moco-writable'), /read-only|READ.ONLY/i);
    // Async all the way: no semi-sync anywhere in the cluster.
    for (const i of [0, 1, 2]) {
      const [v] = await query(repl, i, 'SELECT @@rpl_semi_sync_master_enabled AS m, @@rpl_semi_sync_slave_enabled AS s, @@read_only AS ro');
      assert.deepEqual([Number(v?.m), Number(v?.s), Number(v?.ro)], [0, 0, 1], `instance ${i}`);
    }
    await everywhere(repl, await insertAtSource());
  });

  it('a switchover keeps following the source; so does a failover', async () => {
    const c = repl as LocalCluster;
    const r = await c.moco(['switchover', 'repl']);
    assert.equal(r.code, 0, r.stderr);
    let st = await c.waitStatus((s) => s.status.currentPrimaryIndex === 1 && s.status.state === 'Healthy', 60_000, 'the switchover');
    await everywhere(c, await insertAtSource());
    // The new primary replicates from the source; the old one from the new primary.
    const [p] = await query(c, 1, 'SHOW SLAVE STATUS');
    assert.equal(Number(p?.Master_Port), sourcePort);
    const [old] = await query(c, 0, 'SHOW SLAVE STATUS');
    assert.equal(Number(old?.Master_Port), st.instances[1]?.port);

    await c.signalInstance(1, 'SIGKILL');
    st = await c.waitStatus((s) => s.status.currentPrimaryIndex !== 1 && ['Healthy', 'Degraded'].includes(s.status.state ?? ''), 60_000, 'a failover');
    const want = await insertAtSource();
    const primary = st.status.currentPrimaryIndex;
    await waitFor(async () => (await ids(c, primary).catch(() => '')) === want, 30_000, 'the new primary to follow the source');
    const up = await c.moco(['up', '-d', '--name', 'repl']);
    assert.equal(up.code, 0, up.stderr);
    await c.waitHealthy(120_000);
    await everywhere(c, want);
  });

  it('clearing replicationSourceSecretName makes it an ordinary cluster: writable, semi-sync, no longer following', async () => {
    const c = repl as LocalCluster;
    const file = path.join(c.dir, 'detached.yaml');
    await writeFile(file, manifest('repl', sourcePort, { detached: true }));
    const r = await c.moco(['up', '-d', '-f', file]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const st: StatusJson = await c.waitStatus((s) => s.status.state === 'Healthy' && s.instances.every((i) => i.ready), 60_000, 'Healthy after detaching');
    await query(c, 'primary', "INSERT INTO shop.items VALUES (1000, 'mine')", 'moco-writable');
    const [slave] = await query(c, st.status.currentPrimaryIndex, 'SHOW SLAVE STATUS');
    assert.equal(slave, undefined, 'the primary no longer replicates');
    const [v] = await query(c, st.status.currentPrimaryIndex, 'SELECT @@rpl_semi_sync_master_enabled AS m');
    assert.equal(Number(v?.m), 1);
    await insertAtSource();
    await new Promise((res) => setTimeout(res, 1500));
    assert.ok(!(await ids(c, 'primary')).split(',').includes(String(next - 1)), 'a row written at the source after detaching does not arrive');
  });
});
