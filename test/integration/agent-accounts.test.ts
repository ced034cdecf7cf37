/**
 * The accounts on real MariaDB (a primary and a read-only replica): moco-writable can do what the seed's guide
 * shows and cannot modify the `mysql` schema by any direct way; replicas refuse writes from moco-admin and
 * moco-writable; and the agent re-asserts the accounts when it starts and when mysqld restarts, without
 * writing a GTID. What MariaDB cannot prevent is pinned in "known gaps" (docs/users.md says the same).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { requireMysqld } from '../../src/agent/mysqld.ts';
import { createTestCluster, formReplication, waitFor, type TestCluster, type TestInstance } from '../helpers/harness.ts';

const flavor = requireMysqld().flavor;

let cluster: TestCluster;
let primary: TestInstance;
let replica: TestInstance;

type Conn = mysql.Connection;

/** Runs `fn` on a new connection as `user` (password from the cluster's Secret unless given) and closes it. */
async function as<T>(inst: TestInstance, user: string, fn: (c: Conn) => Promise<T>, password?: string): Promise<T> {
  const key = { 'moco-admin': 'ADMIN_PASSWORD', 'moco-agent': 'AGENT_PASSWORD', 'moco-writable': 'WRITABLE_PASSWORD', 'moco-readonly': 'READONLY_PASSWORD' }[user] as keyof TestCluster['passwords'] | undefined;
  const c = await inst.connect(user, password ?? (key ? cluster.passwords[key] : ''));
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The agent's own account over the unix socket (the only one that writes on a replica). */
async function asAgent<T>(inst: TestInstance, fn: (c: Conn) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({ socketPath: inst.layout.socket, user: 'moco-agent', password: cluster.passwords.AGENT_PASSWORD });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function rows(c: Conn, sql: string): Promise<Array<Record<string, unknown>>> {
  const [r] = await c.query(sql);
  return r as Array<Record<string, unknown>>;
}

/** SHOW GRANTS for `account` without its password hash, sorted; roles it holds (GRANT `role` TO ...) left out. */
async function grants(inst: TestInstance, account: string): Promise<string[]> {
  return asAgent(inst, async (c) => (await rows(c, `SHOW GRANTS FOR ${account}`))
    .map((r) => String(Object.values(r)[0]).replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''))
    .filter((g) => !g.startsWith('GRANT `')).sort());
}

/** ER_DBACCESS_DENIED 1044, ER_ACCESS_DENIED 1045, ER_TABLEACCESS_DENIED 1142, ER_COLUMNACCESS_DENIED 1143, ER_SPECIFIC_ACCESS_DENIED 1227. */
const ACCESS_DENIED = [1044, 1045, 1142, 1143, 1227];

async function denied(c: Conn, sql: string, also: number[] = []): Promise<void> {
  await assert.rejects(c.query(sql), (err: { errno?: number; message?: string }) => {
    assert.ok([...ACCESS_DENIED, ...also].includes(err.errno ?? 0), `${sql}: expected access denied, got ${err.errno} ${err.message}`);
    return true;
  }, `${sql} must be refused`);
}

const EXPECTED_WRITABLE = [
  "GRANT ALL PRIVILEGES ON `%`.* TO `moco-writable`@`%` WITH GRANT OPTION",
  "GRANT PROCESS, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR, CREATE USER, SLAVE MONITOR ON *.* TO `moco-writable`@`%` WITH GRANT OPTION",
  "GRANT SELECT, SHOW VIEW ON `mysql`.* TO `moco-writable`@`%`",
];

describe('accounts on MariaDB', { skip: flavor !== 'mariadb' && 'the MariaDB grant scheme and the re-assert are MariaDB-only' }, () => {
  before(async () => {
    cluster = await createTestCluster('acct');
    primary = await cluster.add();
    replica = await cluster.add();
    await formReplication(primary, [replica]);
  });
  after(async () => {
    await cluster?.close();
  });

  test("the guide's three commands work as moco-writable, and the new account can use its database", async () => {
    await as(primary, 'moco-writable', async (c) => {
      await c.query("CREATE USER 'foo'@'%' IDENTIFIED BY 'bar'");
      await c.query('CREATE DATABASE db1');
      await c.query("GRANT ALL ON db1.* TO 'foo'@'%'");
    });
    await as(primary, 'foo', async (c) => {
      await c.query('CREATE TABLE db1.t (id INT PRIMARY KEY, v TEXT)');
      await c.query("INSERT INTO db1.t VALUES (1, 'a')");
      assert.equal((await rows(c, 'SELECT COUNT(*) AS n FROM db1.t'))[0]?.n, 1);
    }, 'bar');
  });

  test("moco-writable holds the seed's privileges on user databases", async () => {
    await as(primary, 'moco-writable', async (c) => {
      for (const sql of [
        'CREATE DATABASE app', 'CREATE TABLE app.t (id INT PRIMARY KEY, v INT)', 'ALTER TABLE app.t ADD COLUMN w INT',
        'CREATE INDEX iv ON app.t (v)', 'INSERT INTO app.t VALUES (1, 1, 1)', 'UPDATE app.t SET v = 2', 'DELETE FROM app.t WHERE id = 9',
        'CREATE VIEW app.v AS SELECT id FROM app.t', 'SHOW CREATE VIEW app.v',
        'CREATE PROCEDURE app.p() SELECT 1', 'CALL app.p()', 'ALTER PROCEDURE app.p COMMENT "x"',
        'CREATE EVENT app.e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1',
        'CREATE TEMPORARY TABLE app.tmp (a INT)', 'LOCK TABLES app.t WRITE', 'UNLOCK TABLES',
        'CREATE TABLE app.r (id INT PRIMARY KEY, t INT, FOREIGN KEY (t) REFERENCES app.t (id))',
        'CREATE TABLE app.h (a INT) WITH SYSTEM VERSIONING', 'DELETE HISTORY FROM app.h',
        'SELECT COUNT(*) FROM mysql.global_priv', 'SHOW GRANTS FOR \'moco-readonly\'@\'%\'',
        'CREATE ROLE app_role', "GRANT SELECT ON app.* TO app_role", "GRANT PROCESS ON *.* TO 'foo'@'%'",
        'DROP VIEW app.v', 'DROP TABLE app.r',
      ]) {
        await c.query(sql).catch((err: Error) => assert.fail(`${sql}: ${err.message}`));
      }
    });
    // With binary logging, triggers and stored functions need SUPER unless log_bin_trust_function_creators is
    // ON, which the MariaDB defaults set (only moco-agent holds SUPER there).
    await as(primary, 'moco-writable', async (c) => {
      assert.equal((await rows(c, 'SELECT @@log_bin_trust_function_creators AS t'))[0]?.t, 1);
      await c.query('CREATE TRIGGER app.tr BEFORE INSERT ON app.t FOR EACH ROW SET NEW.w = 0');
      await c.query('CREATE FUNCTION app.f() RETURNS INT DETERMINISTIC RETURN 1');
    });
  });

  test('moco-writable cannot modify the mysql schema by any direct way', async () => {
    const before = await asAgent(primary, (c) => rows(c, 'SELECT User, Host, Priv FROM mysql.global_priv ORDER BY User, Host'));
    await as(primary, 'moco-writable', async (c) => {
      await c.query('CREATE TABLE db1.src (a INT)');
      for (const sql of [
        "UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', 549755813887) WHERE User = 'moco-writable'",
        "INSERT INTO mysql.global_priv VALUES ('%', 'x', '{}')",
        "DELETE FROM mysql.global_priv WHERE User = 'moco-agent'",
        "UPDATE mysql.db SET Update_priv = 'Y' WHERE User = 'moco-writable'",
        "INSERT INTO mysql.db (Host, Db, User, Update_priv) VALUES ('%', 'mysql', 'foo', 'Y')",
        "DELETE FROM mysql.db WHERE Db = 'mysql'",
        "UPDATE mysql.user SET Super_priv = 'Y' WHERE User = 'moco-writable'",
        "DELETE FROM mysql.user WHERE User = 'moco-agent'",
        "INSERT INTO mysql.tables_priv (Host, Db, User, Table_name) VALUES ('%', 'mysql', 'foo', 'global_priv')",
        'REPLACE INTO mysql.roles_mapping VALUES (\'%\', \'moco-writable\', \'r\', \'Y\')',
        'TRUNCATE TABLE mysql.time_zone', 'CREATE TABLE mysql.t1 (a INT)', 'DROP TABLE mysql.time_zone',
        'ALTER TABLE mysql.global_priv ENGINE = InnoDB', 'CREATE INDEX i ON mysql.time_zone (Use_leap_seconds)',
        'RENAME TABLE db1.src TO mysql.src', 'RENAME TABLE mysql.time_zone TO db1.tz',
        'CREATE PROCEDURE mysql.p() SELECT 1', 'CREATE VIEW mysql.v AS SELECT 1',
        'CREATE EVENT mysql.e ON SCHEDULE EVERY 1 DAY DO SELECT 1',
        'CREATE TEMPORARY TABLE mysql.global_priv (a INT)', 'LOCK TABLES mysql.global_priv WRITE',
        'OPTIMIZE TABLE mysql.time_zone', 'ANALYZE TABLE mysql.time_zone', 'DROP DATABASE mysql',
        'ALTER DATABASE mysql CHARACTER SET utf8mb4', 'CREATE TABLE db1.m (a INT) ENGINE = MERGE UNION = (mysql.time_zone)',
        "LOAD DATA INFILE '/etc/hostname' INTO TABLE mysql.time_zone",
        "GRANT READ_ONLY ADMIN ON *.* TO 'moco-writable'@'%'", "GRANT SUPER ON *.* TO 'foo'@'%'", "GRANT SET USER ON *.* TO 'foo'@'%'",
        "GRANT ALL ON *.* TO 'foo'@'%'", "GRANT INSERT ON *.* TO 'foo'@'%'", "GRANT UPDATE ON mysql.* TO 'foo'@'%'",
        "GRANT UPDATE ON mysql.global_priv TO 'foo'@'%'", "GRANT UPDATE (Priv) ON mysql.global_priv TO 'foo'@'%'",
        "GRANT ALL ON mysql.* TO 'moco-writable'@'%'",
        "SET PASSWORD FOR 'moco-admin'@'%' = PASSWORD('x')",
        "CREATE DEFINER = 'moco-agent'@'%' PROCEDURE db1.p() SQL SECURITY DEFINER SELECT 1",
        'CREATE TABLE information_schema.x (a INT)', 'CREATE TABLE performance_schema.x (a INT)',
        'SET GLOBAL read_only = OFF', 'SET SESSION sql_log_bin = 0',
      ]) await denied(c, sql);
      // ER_NO_TRIGGERS_ON_SYSTEM_SCHEMA 1465: refused before privileges are looked at.
      await denied(c, 'CREATE TRIGGER mysql.tr BEFORE INSERT ON mysql.global_priv FOR EACH ROW SET @x = 1', [1465]);
    });
    const after = await asAgent(primary, (c) => rows(c, 'SELECT User, Host, Priv FROM mysql.global_priv ORDER BY User, Host'));
    assert.deepEqual(after, before, 'mysql.global_priv is unchanged');
    assert.deepEqual(await grants(primary, "'moco-writable'@'%'"), EXPECTED_WRITABLE);
  });

  test('moco-readonly reads and writes nothing', async () => {
    await as(primary, 'moco-readonly', async (c) => {
      assert.equal((await rows(c, 'SELECT COUNT(*) AS n FROM db1.t'))[0]?.n, 1);
      await assert.rejects(c.query('INSERT INTO db1.t VALUES (2, "b")'), { errno: 1142 });
      await assert.rejects(c.query("UPDATE mysql.global_priv SET Priv = Priv"), { errno: 1142 });
    });
  });

  test('a replica refuses writes from moco-admin and moco-writable, also through a routine run as moco-agent', async () => {
    await waitFor(async () => (await as(replica, 'moco-readonly', (c) => rows(c, "SHOW DATABASES LIKE 'db1'"))).length === 1, 10_000, 'db1 on the replica');
    for (const user of ['moco-admin', 'moco-writable']) {
      await as(replica, user, async (c) => {
        await assert.rejects(c.query("INSERT INTO db1.t VALUES (10, 'x')"), { errno: 1290 }, `${user} INSERT`);
        await assert.rejects(c.query('CREATE DATABASE nope'), { errno: 1290 }, `${user} CREATE DATABASE`);
        await assert.rejects(c.query('SET GLOBAL read_only = OFF'), { errno: 1227 }, `${user} SET GLOBAL read_only`);
      });
    }
    // SUPER and SET USER would let moco-admin define a routine as moco-agent, which writes on a read-only replica.
    await as(primary, 'moco-admin', async (c) => {
      await denied(c, "CREATE DEFINER = 'moco-agent'@'%' PROCEDURE db1.w() SQL SECURITY DEFINER INSERT INTO db1.t VALUES (11, 'y')");
      await denied(c, "GRANT READ_ONLY ADMIN ON *.* TO 'moco-admin'@'%'");
    });
  });

  test('known gaps (docs/users.md): what holding CREATE USER still allows on MariaDB 10.11, and what the agent does', async () => {
    // A role granted a wildcard pattern reaches `mysql` (the exact `mysql` entry is moco-writable's, not the
    // role's), and CREATE USER lets an account alter any other account.
    await as(primary, 'moco-writable', async (c) => {
      await c.query('CREATE ROLE gap');
      await c.query('GRANT ALL ON `%`.* TO gap');
      await c.query('SET ROLE gap');
      await c.query("UPDATE mysql.global_priv SET Priv = Priv WHERE User = 'nobody'");
      await c.query('SET ROLE NONE');
      await c.query("ALTER USER 'moco-readonly'@'%' IDENTIFIED BY 'taken-over'");
    });
    await as(primary, 'moco-readonly', async () => undefined, 'taken-over');
    // The agent gives moco-readonly its password back when it starts, and reports the role.
    await primary.restartAgent();
    await waitFor(async () => as(primary, 'moco-readonly', async () => true).catch(() => false), 15_000, 'moco-readonly to have its password back');
    const r = await primary.daemon.agent.reassertAccounts(cluster.passwords);
    assert.deepEqual(r.changes, []);
    assert.ok(r.mysqlWriters.includes("'gap'@''"), `reported: ${r.mysqlWriters.join(', ')}`);
    await as(primary, 'moco-writable', (c) => c.query('DROP ROLE gap'));
  });

  test('a tampered replica is repaired when its agent restarts, and the repair writes no GTID', async () => {
    const gtid = async (inst: TestInstance): Promise<string> => asAgent(inst, async (c) => String((await rows(c, 'SELECT @@gtid_binlog_pos AS g'))[0]?.g));
    let before = { replica: '', primary: '' };
    // Tampered as the agent's own account while no agent runs, so that only the new agent can repair it.
    await replica.restartAgent(async () => {
      await asAgent(replica, async (c) => {
        await c.query('SET SESSION sql_log_bin = 0');
        await c.query("CREATE USER 'app'@'%' IDENTIFIED BY 'app'");
        await c.query("GRANT SELECT, READ_ONLY ADMIN, SUPER, SET USER ON *.* TO 'app'@'%'");
        await c.query("GRANT READ_ONLY ADMIN, SUPER, INSERT, UPDATE ON *.* TO 'moco-writable'@'%'");
        await c.query("GRANT UPDATE ON mysql.* TO 'moco-writable'@'%'");
        await c.query("GRANT SUPER, SET USER ON *.* TO 'moco-admin'@'%'");
        await c.query("ALTER USER 'moco-admin'@'%' IDENTIFIED BY 'stolen'");
        await c.query("DROP USER 'moco-readonly'@'%'");
      });
      before = { replica: await gtid(replica), primary: await gtid(primary) };
    });
    await waitFor(async () => as(replica, 'moco-readonly', async () => true).catch(() => false), 15_000, 'moco-readonly to be re-created');
    await waitFor(async () => as(replica, 'moco-admin', async () => true).catch(() => false), 15_000, 'moco-admin to have its password back');
    await waitFor(async () => JSON.stringify(await grants(replica, "'moco-writable'@'%'")) === JSON.stringify(EXPECTED_WRITABLE), 15_000, 'moco-writable to be exact');
    assert.deepEqual(await grants(replica, "'app'@'%'"), ['GRANT SELECT ON *.* TO `app`@`%`']);
    const admin = (await grants(replica, "'moco-admin'@'%'")).join('\n');
    for (const p of ['READ_ONLY ADMIN', 'SUPER', 'SET USER']) assert.ok(!new RegExp(`[ ,]${p}[ ,]`).test(admin), `moco-admin holds ${p}: ${admin}`);
    assert.deepEqual({ replica: await gtid(replica), primary: await gtid(primary) }, before, 'no GTID written');
    // Still a healthy replica meanwhile and after.
    const st = await replica.client.getStatus();
    assert.equal(st.readOnly, true);
    assert.equal(st.replica?.sqlRunning, true);
    assert.equal((await fetch(`http://127.0.0.1:${replica.httpPort}/readyz`)).status, 200);
    const metrics = (await (await fetch(`http://127.0.0.1:${replica.httpPort}/metrics`)).text()).split('\n').filter((l) => l.includes('account')).join('\n');
    assert.match(metrics, /moco_instance_account_checks_total\{[^}]*result="repaired"[^}]*\} 1/, metrics);
    assert.match(metrics, /moco_instance_account_repairs_total\{[^}]*\} 7$/m, metrics);
  });

  test('grant-table edits that take effect at a restart are undone after mysqld restarts (the agent keeps running)', async () => {
    // Give moco-writable every global privilege in the table only: nothing changes until mysqld reloads it.
    await asAgent(replica, async (c) => {
      await c.query('SET SESSION sql_log_bin = 0');
      await c.query("UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', 549755813887) WHERE User = 'moco-writable' AND Host = '%'");
    });
    await replica.supervisor.stop();
    await replica.supervisor.start();
    await waitFor(async () => JSON.stringify(await grants(replica, "'moco-writable'@'%'").catch(() => [])) === JSON.stringify(EXPECTED_WRITABLE),
      30_000, 'moco-writable to be exact again after the restart');
    await as(replica, 'moco-writable', async (c) => {
      await assert.rejects(c.query("INSERT INTO db1.t VALUES (12, 'z')"), { errno: 1290 });
    });
  });

  test('a second re-assert right after changes nothing', async () => {
    const r = await primary.daemon.agent.reassertAccounts(cluster.passwords);
    assert.deepEqual(r.changes, []);
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.mysqlWriters, [], 'with the role gone, no account but moco-admin and moco-agent may modify mysql');
    assert.deepEqual(r.definerObjects, []);
  });
});
