import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Row } from '../../../src/agent/db.ts';
import {
  ACCOUNT_READ, parseAccountState, planAccountRepairs, reassertMariadbAccounts, type Repair,
} from '../../../src/agent/flavor/mariadb-accounts.ts';
import { mariadbAdapter } from '../../../src/agent/flavor/mariadb.ts';
import { mysqlAdapter } from '../../../src/agent/flavor/mysql.ts';
import {
  MARIADB_DATABASE_PRIVILEGES, MARIADB_GLOBAL_PRIVILEGES, PASSWORD_KEYS, USERS, nativePasswordHash, type Passwords,
} from '../../../src/shared/accounts.ts';
import { FakeDb, mysqlError } from './fake-db.ts';

const passwords = Object.fromEntries(PASSWORD_KEYS.map((k) => [k, `pw-${k.toLowerCase()}`])) as Passwords;
const grantee = (name: string, host = '%'): string => `'${name}'@'${host}'`;

/**
 * What a MariaDB server answers to ACCOUNT_READ for the accounts exactly as USERS wants them (as bootstrapSql
 * leaves them), with `edit` applied to the result sets before they are returned.
 */
class Server {
  accounts: Row[] = [];
  global: Row[] = [];
  dbs: Row[] = [];
  tables: Row[] = [];
  routines: Row[] = [];
  proxies: Row[] = [];
  breakers: Row[] = [];
  definers: Row[] = [];
  writers: Row[] = [];

  constructor() {
    for (const u of USERS) {
      const g = grantee(u.name);
      this.accounts.push({ user: u.name, plugin: 'mysql_native_password', auth: nativePasswordHash(passwords[u.password]), locked: 'false', changed: '1796387826' });
      const spec = u.mariadb;
      const privs = spec.global === 'ALL' ? MARIADB_GLOBAL_PRIVILEGES.filter((p) => !(spec.except ?? []).includes(p)) : spec.global;
      for (const p of privs) this.global.push({ grantee: g, priv: p, grantable: spec.grantOption ? 'YES' : 'NO' });
      for (const d of spec.databases ?? []) {
        for (const p of d.privileges === 'ALL' ? MARIADB_DATABASE_PRIVILEGES : d.privileges) {
          this.dbs.push({ grantee: g, db: d.db, priv: p, grantable: d.grantOption ? 'YES' : 'NO' });
        }
      }
    }
    this.breakers.push(...MARIADB_GLOBAL_PRIVILEGES.filter((p) => ['READ_ONLY ADMIN', 'SUPER', 'SET USER'].includes(p))
      .map((p) => ({ user: 'moco-agent', host: '%', is_role: null, priv: p })));
    this.writers.push({ grantee: grantee('moco-admin'), kind: 'global', db: '' }, { grantee: grantee('moco-agent'), kind: 'global', db: '' },
      { grantee: grantee('moco-writable'), kind: 'exact', db: '' }, { grantee: grantee('moco-writable'), kind: 'database', db: '%' },
      { grantee: grantee('mariadb.sys', 'localhost'), kind: 'table', db: '' });
  }

  sets(): Row[][] {
    return [this.accounts, this.global, this.dbs, this.tables, this.routines, this.proxies, this.breakers, this.definers, this.writers];
  }

  /** A FakeDb that answers the read batch with these sets (in ACCOUNT_READ's order). */
  db(): FakeDb {
    const fake = new FakeDb();
    ACCOUNT_READ.forEach((s, i) => fake.on(s.sql, this.sets()[i] as Row[]));
    return fake;
  }

  drop(name: string): this {
    const g = grantee(name);
    this.accounts = this.accounts.filter((r) => r.user !== name);
    this.global = this.global.filter((r) => r.grantee !== g);
    this.dbs = this.dbs.filter((r) => r.grantee !== g);
    return this;
  }
}

const plan = (s: Server): Repair[] => planAccountRepairs(parseAccountState(s.sets()), passwords);
const sqls = (s: Server): string[] => plan(s).map((r) => r.sql);

describe('MariaDB account re-assert: plan', () => {
  it('accounts as bootstrapSql leaves them: nothing to do', () => {
    assert.deepEqual(plan(new Server()), []);
  });

  it('a missing account is created with its password and granted its privileges', () => {
    const r = plan(new Server().drop('moco-readonly'));
    assert.deepEqual(r.map((x) => x.sql), [
      "CREATE USER 'moco-readonly'@'%' IDENTIFIED BY ?",
      "GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE, SELECT, SHOW DATABASES, SHOW VIEW ON *.* TO 'moco-readonly'@'%'",
    ]);
    assert.deepEqual(r[0]?.params, [passwords.READONLY_PASSWORD]);
    assert.ok(r.every((x) => !x.change.includes(passwords.READONLY_PASSWORD)), 'no password in what is logged');
  });

  it('a missing moco-writable gets the MariaDB scheme: global non-modifying privileges, ALL on `%`, read-only `mysql`', () => {
    assert.deepEqual(sqls(new Server().drop('moco-writable')), [
      "CREATE USER 'moco-writable'@'%' IDENTIFIED BY ?",
      "GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE, SHOW DATABASES, CREATE USER ON *.* TO 'moco-writable'@'%' WITH GRANT OPTION",
      "GRANT ALL PRIVILEGES ON `%`.* TO 'moco-writable'@'%' WITH GRANT OPTION",
      "GRANT SELECT, SHOW VIEW ON `mysql`.* TO 'moco-writable'@'%'",
    ]);
  });

  it('a changed, expired or locked password is reset and unlocked', () => {
    const s = new Server();
    const admin = s.accounts.find((r) => r.user === 'moco-admin') as Row;
    admin.auth = nativePasswordHash('stolen');
    const agent = s.accounts.find((r) => r.user === 'moco-agent') as Row;
    agent.changed = '0';
    const ro = s.accounts.find((r) => r.user === 'moco-readonly') as Row;
    ro.locked = 'true';
    const exporter = s.accounts.find((r) => r.user === 'moco-exporter') as Row;
    exporter.plugin = 'unix_socket';
    const r = plan(s);
    assert.deepEqual(r.map((x) => x.sql), [
      "ALTER USER 'moco-agent'@'%' IDENTIFIED BY ?",
      "ALTER USER 'moco-admin'@'%' IDENTIFIED BY ?",
      "ALTER USER 'moco-exporter'@'%' IDENTIFIED BY ?",
      "ALTER USER 'moco-readonly'@'%' ACCOUNT UNLOCK",
    ]);
    assert.deepEqual(r.map((x) => x.params), [[passwords.AGENT_PASSWORD], [passwords.ADMIN_PASSWORD], [passwords.EXPORTER_PASSWORD], undefined]);
  });

  it('a data directory made with the old grants is migrated (moco-writable global writes, moco-admin SUPER and SET USER)', () => {
    const s = new Server();
    const w = grantee('moco-writable');
    s.dbs = s.dbs.filter((r) => r.grantee !== w);
    s.global = s.global.filter((r) => r.grantee !== w);
    for (const p of ['ALTER', 'ALTER ROUTINE', 'CREATE', 'CREATE ROUTINE', 'CREATE TEMPORARY TABLES', 'CREATE USER', 'CREATE VIEW', 'DELETE',
      'DROP', 'EVENT', 'EXECUTE', 'INDEX', 'INSERT', 'LOCK TABLES', 'PROCESS', 'REFERENCES', 'BINLOG MONITOR', 'SLAVE MONITOR',
      'REPLICATION SLAVE', 'SELECT', 'SHOW DATABASES', 'SHOW VIEW', 'TRIGGER', 'UPDATE']) s.global.push({ grantee: w, priv: p, grantable: 'YES' });
    s.global.push({ grantee: grantee('moco-admin'), priv: 'SUPER', grantable: 'YES' }, { grantee: grantee('moco-admin'), priv: 'SET USER', grantable: 'YES' });
    assert.deepEqual(sqls(s), [
      "REVOKE SUPER, SET USER ON *.* FROM 'moco-admin'@'%'",
      "REVOKE ALTER, ALTER ROUTINE, CREATE, CREATE ROUTINE, CREATE TEMPORARY TABLES, CREATE VIEW, DELETE, DROP, EVENT, EXECUTE, INDEX, INSERT, LOCK TABLES, REFERENCES, SELECT, SHOW VIEW, TRIGGER, UPDATE ON *.* FROM 'moco-writable'@'%'",
      "GRANT ALL PRIVILEGES ON `%`.* TO 'moco-writable'@'%' WITH GRANT OPTION",
      "GRANT SELECT, SHOW VIEW ON `mysql`.* TO 'moco-writable'@'%'",
    ]);
  });

  it('moco-writable tampered with: write privileges on `mysql` revoked, a foreign database entry removed, missing ones granted', () => {
    const s = new Server();
    const w = grantee('moco-writable');
    s.dbs.push({ grantee: w, db: 'mysql', priv: 'UPDATE', grantable: 'YES' }, { grantee: w, db: 'm%', priv: 'INSERT', grantable: 'NO' });
    s.dbs = s.dbs.filter((r) => !(r.grantee === w && r.db === '%' && r.priv === 'DELETE HISTORY'));
    // Order: foreign entries first, then the wanted ones.
    assert.deepEqual(sqls(s), [
      "REVOKE ALL PRIVILEGES ON `m%`.* FROM 'moco-writable'@'%'",
      "GRANT DELETE HISTORY ON `%`.* TO 'moco-writable'@'%' WITH GRANT OPTION",
      "REVOKE UPDATE ON `mysql`.* FROM 'moco-writable'@'%'",
      "REVOKE GRANT OPTION ON `mysql`.* FROM 'moco-writable'@'%'",
    ]);
  });

  it('table, column, routine and proxy grants on a managed account are revoked, grant option included', () => {
    const s = new Server();
    const w = grantee('moco-writable');
    s.tables.push({ grantee: w, db: 'mysql', tbl: 'global_priv', grantable: 'YES' }, { grantee: w, db: 'mysql', tbl: 'global_priv', grantable: 'NO' },
      { grantee: w, db: 'app', tbl: 'c`x', grantable: 'NO' });
    s.routines.push({ user: 'moco-readonly', db: 'app', name: 'p', type: 'PROCEDURE', privs: 'Execute,Grant' });
    s.proxies.push({ user: 'moco-readonly', proxied_user: 'moco-agent', proxied_host: '%' });
    assert.deepEqual(sqls(s), [
      "REVOKE ALL PRIVILEGES ON PROCEDURE `app`.`p` FROM 'moco-readonly'@'%'",
      "REVOKE GRANT OPTION ON PROCEDURE `app`.`p` FROM 'moco-readonly'@'%'",
      "REVOKE PROXY ON 'moco-agent'@'%' FROM 'moco-readonly'@'%'",
      "REVOKE ALL PRIVILEGES ON `mysql`.`global_priv` FROM 'moco-writable'@'%'",
      "REVOKE GRANT OPTION ON `mysql`.`global_priv` FROM 'moco-writable'@'%'",
      "REVOKE ALL PRIVILEGES ON `app`.`c``x` FROM 'moco-writable'@'%'",
    ]);
  });

  it('roles are not read, so roles the accounts created (and hold, as their creators) stay', () => {
    assert.ok(!ACCOUNT_READ.some((st) => /roles_mapping|default_role/.test(st.sql)));
  });

  it('moco-agent missing privileges is granted first; nothing is ever revoked from it', () => {
    const s = new Server();
    const a = grantee('moco-agent');
    s.global = s.global.filter((r) => !(r.grantee === a && r.priv === 'READ_ONLY ADMIN'));
    s.global.push({ grantee: a, priv: 'SHOW CREATE ROUTINE', grantable: 'YES' }); // a newer server's privilege
    s.global = s.global.filter((r) => !(r.grantee === grantee('moco-repl') && r.priv === 'SLAVE MONITOR'));
    assert.deepEqual(sqls(s), [
      "GRANT READ_ONLY ADMIN ON *.* TO 'moco-agent'@'%' WITH GRANT OPTION",
      "GRANT SLAVE MONITOR ON *.* TO 'moco-repl'@'%'",
    ]);
  });

  it('a managed account holding privileges not in its list, or the grant option, loses them', () => {
    const s = new Server();
    const ro = grantee('moco-readonly');
    s.global.push({ grantee: ro, priv: 'INSERT', grantable: 'YES' });
    for (const r of s.global) if (r.grantee === ro) r.grantable = 'YES';
    assert.deepEqual(sqls(s), [
      "REVOKE INSERT ON *.* FROM 'moco-readonly'@'%'",
      "REVOKE GRANT OPTION ON *.* FROM 'moco-readonly'@'%'",
    ]);
  });

  it('READ_ONLY ADMIN, SUPER and SET USER are taken from every other account and role, user-created ones included', () => {
    const s = new Server();
    s.breakers.push(
      { user: 'app', host: '%', is_role: null, priv: 'READ_ONLY ADMIN' }, { user: 'app', host: '%', is_role: null, priv: 'SUPER' },
      { user: 'root', host: 'localhost', is_role: null, priv: 'SET USER' },
      { user: 'r1', host: '', is_role: 'true', priv: 'SUPER' },
      // The managed accounts are made exact by their own plan (not twice).
      { user: 'moco-admin', host: '%', is_role: null, priv: 'SUPER' },
    );
    assert.deepEqual(sqls(s), [
      "REVOKE READ_ONLY ADMIN, SUPER ON *.* FROM 'app'@'%'",
      "REVOKE SET USER ON *.* FROM 'root'@'localhost'",
      'REVOKE SUPER ON *.* FROM `r1`',
    ]);
  });
});

describe('MariaDB account re-assert: reported, not changed', () => {
  it('accounts that may modify `mysql`: global, table, the exact entry, else the wildcard ones', () => {
    const s = new Server();
    s.writers.push(
      { grantee: grantee('app'), kind: 'database', db: '%' },
      { grantee: grantee('safe'), kind: 'database', db: '%' }, { grantee: grantee('safe'), kind: 'exact', db: '' },
      { grantee: grantee('exact'), kind: 'exact', db: '' }, { grantee: grantee('exact'), kind: 'database', db: 'mysql' },
      { grantee: grantee('dba', 'localhost'), kind: 'global', db: '' },
      { grantee: "'r1'@''", kind: 'table', db: '' },
    );
    assert.deepEqual(parseAccountState(s.sets()).mysqlWriters, ["'app'@'%'", "'dba'@'localhost'", "'exact'@'%'", "'r1'@''"]);
  });
});

describe('MariaDB account re-assert: execution', () => {
  it('reads in one batch, runs each change without binary logging, reads again and reports what remains', async () => {
    const s = new Server().drop('moco-readonly');
    s.definers.push({ what: 'procedure app.p' });
    const db = s.db();
    const r = await reassertMariadbAccounts(db, passwords);
    assert.equal(db.batches.length, 2, 'one read before the changes, one after (the report is about what remains)');
    assert.deepEqual(db.writes, [
      ["SET STATEMENT sql_log_bin = 0 FOR CREATE USER 'moco-readonly'@'%' IDENTIFIED BY ?", [passwords.READONLY_PASSWORD]],
      ["SET STATEMENT sql_log_bin = 0 FOR GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE, SELECT, SHOW DATABASES, SHOW VIEW ON *.* TO 'moco-readonly'@'%'", []],
    ]);
    assert.deepEqual(r, {
      supported: true,
      changes: ['moco-readonly: created (it was missing)', 'moco-readonly: granted PROCESS, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE, SELECT, SHOW DATABASES, SHOW VIEW on *.*'],
      failures: [], definerObjects: ['procedure app.p'], mysqlWriters: [],
    });
  });

  it('the adapter re-asserts through the same function', async () => {
    const db = new Server().db();
    assert.deepEqual(await mariadbAdapter.reassertAccounts(db, passwords), { supported: true, changes: [], failures: [], definerObjects: [], mysqlWriters: [] });
    assert.deepEqual(db.writes, [], 'nothing to change: no statement at all');
  });

  it('a failing statement is reported and the others still run', async () => {
    const s = new Server().drop('moco-readonly').drop('moco-exporter');
    const db = s.db().on(/CREATE USER 'moco-exporter'/, mysqlError(1396, 'Operation CREATE USER failed'));
    const r = await reassertMariadbAccounts(db, passwords);
    assert.deepEqual(r.failures, [{ change: 'moco-exporter: created (it was missing)', error: 'Operation CREATE USER failed' }]);
    assert.equal(r.changes.length, 3);
  });

  it('MySQL does not re-assert (super_read_only refuses account statements) and sends nothing', async () => {
    const db = new FakeDb();
    assert.deepEqual(await mysqlAdapter.reassertAccounts(db, passwords), { supported: false, changes: [], failures: [], definerObjects: [], mysqlWriters: [] });
    assert.deepEqual(db.calls, []);
  });
});
