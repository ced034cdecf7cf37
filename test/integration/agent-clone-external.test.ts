/**
 * Clone from an external source (a mysqld with no agent, as in replication from an external source): the
 * recipient copies the source's schemas and application accounts (MariaDB: a consistent dump; MySQL: CLONE
 * INSTANCE then the cluster's accounts re-created by the init account), ends at the source's GTID position and
 * then replicates from it asynchronously. Refusals change nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { MocoError } from '../../src/shared/errors.ts';
import { createTestCluster, waitFor, type TestCluster, type TestInstance } from '../helpers/harness.ts';

let source: TestCluster;
let target: TestCluster;
let donor: TestInstance;
/** Same server_id as the donor (both clusters number from 100). */
let twin: TestInstance;
let recipient: TestInstance;
let flavor: string;

const DONOR = { user: 'ext-donor', password: 'donor-pw' };
const INIT = { user: 'ext-init', password: 'init-pw' };

async function rows(inst: TestInstance): Promise<string> {
  const c = await inst.connect();
  try {
    const [r] = await c.query('SELECT GROUP_CONCAT(id, ":", v ORDER BY id) AS x FROM shop.items');
    const [v] = await c.query('SELECT COUNT(*) AS n FROM shop.expensive');
    const [t] = await c.query('SELECT COUNT(*) AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = "shop"');
    return `${String((r as Record<string, unknown>[])[0]?.x)}|view=${String((v as Record<string, unknown>[])[0]?.n)}|triggers=${String((t as Record<string, unknown>[])[0]?.n)}`;
  } finally {
    await c.end();
  }
}

function cloneRequest(password = DONOR.password) {
  return {
    donorHost: '127.0.0.1', donorPort: donor.port, donorUser: DONOR.user, donorPassword: password,
    ...(flavor === 'mysql' ? { initUser: INIT.user, initPassword: INIT.password, passwords: { ...target.passwords } } : {}),
  };
}

describe('clone from an external source', () => {
  before(async () => {
    source = await createTestCluster('extsrc');
    target = await createTestCluster('exttgt');
    donor = await source.add();
    await donor.client.setWritable();
    flavor = (await donor.client.getStatus()).flavor;
    const c = await donor.connect();
    await c.query('CREATE DATABASE shop');
    await c.query('CREATE TABLE shop.items (id INT PRIMARY KEY, v VARCHAR(20), price INT)');
    await c.query('CREATE TABLE shop.audit (n INT)');
    await c.query('CREATE TRIGGER shop.count_items AFTER INSERT ON shop.items FOR EACH ROW INSERT INTO shop.audit VALUES (NEW.id)');
    await c.query('CREATE VIEW shop.expensive AS SELECT id FROM shop.items WHERE price > 10');
    await c.query("INSERT INTO shop.items VALUES (1, 'apple', 5), (2, 'melon', 20), (3, 'grape', 12)");
    await c.query("CREATE USER 'shop-app'@'%' IDENTIFIED BY 'app-pw'");
    await c.query("GRANT SELECT, INSERT ON shop.* TO 'shop-app'@'%'");
    await c.query(`CREATE USER '${DONOR.user}'@'%' IDENTIFIED BY '${DONOR.password}'`);
    if (flavor === 'mysql') {
      await c.query(`GRANT BACKUP_ADMIN, REPLICATION SLAVE ON *.* TO '${DONOR.user}'@'%'`);
      await c.query(`CREATE USER '${INIT.user}'@'localhost' IDENTIFIED BY '${INIT.password}'`);
      await c.query(`GRANT ALL ON *.* TO '${INIT.user}'@'localhost' WITH GRANT OPTION`);
      await c.query(`GRANT PROXY ON ''@'' TO '${INIT.user}'@'localhost' WITH GRANT OPTION`);
    } else {
      await c.query(`GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, RELOAD, BINLOG MONITOR, REPLICATION SLAVE ON *.* TO '${DONOR.user}'@'%'`);
    }
    await c.end();
    twin = await target.add();
    recipient = await target.add();
  });
  after(async () => {
    await Promise.allSettled([source?.close(), target?.close()]);
  });

  test('wrong credentials are refused with a message naming the source, and nothing is copied', async () => {
    await assert.rejects(recipient.client.clone(cloneRequest('wrong')), (e: unknown) =>
      e instanceof MocoError && new RegExp(`127\\.0\\.0\\.1:${donor.port}|Access denied`).test(e.message));
    assert.equal((await recipient.client.getStatus()).hasUserData, false);
  });

  test('MariaDB: a source with the same server_id is refused (replication would skip its events)', async () => {
    if (flavor !== 'mariadb') return; // MySQL's CLONE has its own check (server_uuid); nothing to assert here
    await assert.rejects(twin.client.clone(cloneRequest()), (e: unknown) =>
      e instanceof MocoError && e.code === 'FAILED_PRECONDITION' && /server_id 100/.test(e.message));
    assert.equal((await twin.client.getStatus()).hasUserData, false);
  });

  test('the copy has the rows, view, trigger and application accounts, and the source\'s GTID position', async () => {
    const donorGtid = (await donor.client.getStatus()).executed?.text;
    const res = await recipient.client.clone(cloneRequest());
    assert.ok(res.durationMs >= 0);
    assert.equal(await rows(recipient), await rows(donor));
    const st = await recipient.client.getStatus();
    assert.equal(st.executed?.text, donorGtid);
    assert.equal(st.readOnly, true);
    assert.equal(st.clone?.state, 'completed');
    // The application account came along, with its password and grants.
    const app = await mysql.createConnection({ host: '127.0.0.1', port: recipient.port, user: 'shop-app', password: 'app-pw' });
    const [r] = await app.query('SELECT COUNT(*) AS n FROM shop.items');
    assert.equal(Number((r as Record<string, unknown>[])[0]?.n), 3);
    await app.end();
    // The cluster's own accounts still have this cluster's passwords.
    const admin = await recipient.connect();
    await admin.end();
  });

  test('a second clone is refused: the instance now holds user data', async () => {
    await assert.rejects(recipient.client.clone(cloneRequest()), (e: unknown) => e instanceof MocoError && e.code === 'FAILED_PRECONDITION');
    assert.equal((await recipient.client.getStatus()).hasUserData, true);
  });

  test('then it replicates from the source, asynchronously, as the donor account', async () => {
    await recipient.client.configureReplica({ sourceHost: '127.0.0.1', sourcePort: donor.port, user: DONOR.user, password: DONOR.password, semiSync: false });
    const c = await donor.connect();
    await c.query("INSERT INTO shop.items VALUES (4, 'peach', 30)");
    await c.end();
    const want = await rows(donor);
    await waitFor(async () => (await rows(recipient)) === want, 15_000, 'the new row to reach the recipient');
    const st = await recipient.client.getStatus();
    assert.equal(st.replica?.sqlRunning, true);
    assert.equal(st.replica?.lastSqlErrno, 0);
    assert.equal(st.semiSync?.replicaEnabled, false);
  });
});
