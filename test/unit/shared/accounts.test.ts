import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { MARIADB_DATABASE_PRIVILEGES, PASSWORD_KEYS, bootstrapSql, loadPasswords, nativePasswordHash, type Passwords } from '../../../src/shared/accounts.ts';
import { hasCode } from '../../../src/shared/errors.ts';

const passwords = Object.fromEntries(PASSWORD_KEYS.map((k) => [k, `pw-${k.toLowerCase()}`])) as Passwords;

/** The seed system's accounts and privileges ON *.* (as MOCO's documentation lists them). */
const SEED: Record<string, { key: keyof Passwords; privs: string[] }> = {
  'moco-admin': { key: 'ADMIN_PASSWORD', privs: ['ALL'] },
  'moco-agent': { key: 'AGENT_PASSWORD', privs: ['BINLOG_ADMIN', 'CLONE_ADMIN', 'RELOAD', 'REPLICATION CLIENT', 'SELECT', 'SERVICE_CONNECTION_ADMIN', 'SYSTEM_VARIABLES_ADMIN'] },
  'moco-repl': { key: 'REPLICATION_PASSWORD', privs: ['REPLICATION CLIENT', 'REPLICATION SLAVE'] },
  'moco-clone-donor': { key: 'CLONE_DONOR_PASSWORD', privs: ['BACKUP_ADMIN', 'SERVICE_CONNECTION_ADMIN'] },
  'moco-exporter': { key: 'EXPORTER_PASSWORD', privs: ['PROCESS', 'REPLICATION CLIENT', 'SELECT'] },
  'moco-backup': { key: 'BACKUP_PASSWORD', privs: ['BACKUP_ADMIN', 'EVENT', 'RELOAD', 'SELECT', 'SHOW VIEW', 'TRIGGER', 'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SERVICE_CONNECTION_ADMIN'] },
  'moco-readonly': { key: 'READONLY_PASSWORD', privs: ['PROCESS', 'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SELECT', 'SHOW DATABASES', 'SHOW VIEW'] },
  'moco-writable': {
    key: 'WRITABLE_PASSWORD',
    privs: ['ALTER', 'ALTER ROUTINE', 'CREATE', 'CREATE ROLE', 'CREATE ROUTINE', 'CREATE TEMPORARY TABLES', 'CREATE USER', 'CREATE VIEW',
      'DELETE', 'DROP', 'DROP ROLE', 'EVENT', 'EXECUTE', 'INDEX', 'INSERT', 'LOCK TABLES', 'PROCESS', 'REFERENCES',
      'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SELECT', 'SHOW DATABASES', 'SHOW VIEW', 'TRIGGER', 'UPDATE'],
  },
};
const WRITABLE_MYSQL_REVOKE = ['CREATE', 'CREATE ROUTINE', 'CREATE TEMPORARY TABLES', 'CREATE VIEW', 'DELETE', 'DROP', 'EVENT',
  'EXECUTE', 'INDEX', 'INSERT', 'LOCK TABLES', 'REFERENCES', 'TRIGGER', 'UPDATE'];

/** The bootstrap script as statements (one per line, each ending in ';'). */
function statements(sql: string): string[] {
  const lines = sql.split('\n').filter((l) => l !== '');
  for (const l of lines) assert.ok(l.endsWith(';'), `not one statement per line: ${l}`);
  return lines;
}

/** The privileges of `GRANT ... ON *.* TO '<user>'@'%'`, and whether WITH GRANT OPTION. */
function grantOf(stmts: string[], user: string): { privs: string[]; grantOption: boolean } {
  const line = stmts.find((s) => s.startsWith('GRANT ') && s.includes(` ON *.* TO '${user}'@'%'`));
  assert.ok(line, `no GRANT ON *.* for ${user}`);
  const privs = (/^GRANT (.*) ON \*\.\*/.exec(line)?.[1] ?? '').split(', ');
  return { privs, grantOption: line.endsWith(' WITH GRANT OPTION;') };
}

describe('bootstrapSql (mysql)', () => {
  const stmts = statements(bootstrapSql('mysql', passwords));

  for (const [user, seed] of Object.entries(SEED)) {
    it(`${user}: created with its password and the seed's privileges`, () => {
      assert.ok(stmts.includes(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${passwords[seed.key]}';`));
      const { privs } = grantOf(stmts, user);
      for (const p of seed.privs) assert.ok(privs.includes(p), `${user} lacks ${p}`);
    });
  }
  it('moco-admin: ALL WITH GRANT OPTION and PROXY', () => {
    assert.deepEqual(grantOf(stmts, 'moco-admin'), { privs: ['ALL'], grantOption: true });
    assert.ok(stmts.includes("GRANT PROXY ON ''@'' TO 'moco-admin'@'%' WITH GRANT OPTION;"));
  });
  it('moco-writable: WITH GRANT OPTION and a partial revoke on mysql.*', () => {
    assert.equal(grantOf(stmts, 'moco-writable').grantOption, true);
    const revoke = stmts.find((s) => s.startsWith('REVOKE ') && s.endsWith(" ON mysql.* FROM 'moco-writable'@'%';"));
    assert.ok(revoke);
    assert.deepEqual((/^REVOKE (.*) ON mysql/.exec(revoke)?.[1] ?? '').split(', ').sort(), [...WRITABLE_MYSQL_REVOKE].sort());
    const partial = stmts.indexOf("SET GLOBAL partial_revokes = 'ON';");
    assert.ok(partial >= 0 && partial < stmts.indexOf(revoke), 'partial_revokes is on before the revoke');
  });
  it('installs the semi-sync and clone plugins', () => {
    for (const p of ["rpl_semi_sync_master SONAME 'semisync_master.so'", "rpl_semi_sync_slave SONAME 'semisync_slave.so'", "clone SONAME 'mysql_clone.so'"]) {
      assert.ok(stmts.includes(`INSTALL PLUGIN ${p};`), p);
    }
  });
});

describe('bootstrapSql (mariadb)', () => {
  const stmts = statements(bootstrapSql('mariadb', passwords));

  it('FLUSH PRIVILEGES first (grant tables are not loaded in bootstrap mode)', () => assert.equal(stmts[0], 'FLUSH PRIVILEGES;'));
  for (const user of Object.keys(SEED)) {
    it(`${user}: created with its password and granted`, () => {
      const key = SEED[user]?.key as keyof Passwords;
      assert.ok(stmts.includes(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${passwords[key]}';`));
      const { privs } = grantOf(stmts, user);
      const all = privs.includes('ALL PRIVILEGES');
      if (SEED[user]?.privs.includes('REPLICATION CLIENT')) assert.ok(all || privs.includes('BINLOG MONITOR'), `${user} lacks BINLOG MONITOR`);
    });
  }
  it('moco-admin: ALL minus READ_ONLY ADMIN, SUPER and SET USER, so read_only stops it (also through a routine run as moco-agent)', () => {
    assert.deepEqual(grantOf(stmts, 'moco-admin'), { privs: ['ALL PRIVILEGES'], grantOption: true });
    assert.ok(stmts.includes("REVOKE READ_ONLY ADMIN, SUPER, SET USER ON *.* FROM 'moco-admin'@'%';"));
  });
  it('moco-writable: only privileges that modify no table globally, ALL on `%` (DELETE HISTORY included), read-only `mysql`', () => {
    const global = grantOf(stmts, 'moco-writable');
    assert.deepEqual(global.privs.sort(), ['BINLOG MONITOR', 'CREATE USER', 'PROCESS', 'REPLICATION SLAVE', 'SHOW DATABASES', 'SLAVE MONITOR']);
    assert.equal(global.grantOption, true);
    assert.ok(stmts.includes("GRANT ALL PRIVILEGES ON `%`.* TO 'moco-writable'@'%' WITH GRANT OPTION;"));
    assert.ok(stmts.includes("GRANT SELECT, SHOW VIEW ON `mysql`.* TO 'moco-writable'@'%';"));
    assert.equal(stmts.filter((x) => x.includes("'moco-writable'")).length, 4, 'CREATE USER and the three grants');
  });
  it('moco-writable keeps the seed\'s privileges on user databases: every one of them is in the `%` entry or global', () => {
    const seedOnDatabases = SEED['moco-writable']?.privs.filter((p) => !['CREATE ROLE', 'DROP ROLE', 'CREATE USER', 'PROCESS',
      'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SHOW DATABASES'].includes(p)) ?? [];
    for (const p of seedOnDatabases) assert.ok(MARIADB_DATABASE_PRIVILEGES.includes(p), p);
  });
  it('moco-agent keeps ALL (READ_ONLY ADMIN included)', () => {
    assert.deepEqual(grantOf(stmts, 'moco-agent').privs, ['ALL PRIVILEGES']);
    assert.ok(!stmts.some((s) => s.startsWith('REVOKE') && s.includes("'moco-agent'")));
  });
  it('REPLICATION CLIENT is spelled BINLOG MONITOR; no MySQL-only statements', () => {
    const sql = stmts.join('\n');
    for (const absent of ['REPLICATION CLIENT', 'PROXY', 'INSTALL PLUGIN', 'partial_revokes', 'ON mysql.*', 'BACKUP_ADMIN', 'CLONE_ADMIN', 'CREATE ROLE']) {
      assert.ok(!sql.includes(absent), absent);
    }
  });
});

describe('bootstrapSql (both flavors)', () => {
  for (const flavor of ['mysql', 'mariadb'] as const) {
    it(`${flavor}: sql_log_bin = 0 before any CREATE USER`, () => {
      const stmts = statements(bootstrapSql(flavor, passwords));
      const off = stmts.indexOf('SET SESSION sql_log_bin = 0;');
      assert.ok(off >= 0 && off < stmts.findIndex((s) => s.startsWith('CREATE USER')));
    });
    it(`${flavor}: root@localhost is dropped after the accounts exist, then privileges reloaded`, () => {
      const stmts = statements(bootstrapSql(flavor, passwords));
      // MariaDB may remove every root account (localhost, 127.0.0.1, ::1, host name) at once.
      const drop = stmts.findIndex((s) => s === "DROP USER IF EXISTS 'root'@'localhost';" ||
        (flavor === 'mariadb' && s === "DELETE FROM mysql.global_priv WHERE User = 'root';"));
      assert.ok(drop > stmts.findLastIndex((s) => s.startsWith('GRANT')), 'root is removed after the last GRANT');
      assert.ok(stmts.indexOf('FLUSH PRIVILEGES;', drop) > drop, 'FLUSH PRIVILEGES after removing root');
    });
    it(`${flavor}: quotes and backslashes in passwords are escaped`, () => {
      const sql = bootstrapSql(flavor, { ...passwords, ADMIN_PASSWORD: String.raw`it's\'; DROP USER x; --\ ` });
      assert.ok(sql.includes(String.raw`IDENTIFIED BY 'it\'s\\\'; DROP USER x; --\\ ';`), sql.split('\n').find((l) => l.includes('moco-admin')));
      assert.ok(!sql.includes('\nDROP USER x'));
    });
  }
});

describe('nativePasswordHash', () => {
  it('is what MariaDB stores for IDENTIFIED BY (PASSWORD() of the same text, measured)', () => {
    assert.equal(nativePasswordHash('agentpw'), '*546CD9F9CD4CDD9F19541F0104BA031F36798C90');
    assert.equal(nativePasswordHash('wpw'), '*18B3EC224D72F843373C4CE136057829C0EA90FE');
  });
});

describe('loadPasswords', () => {
  let dir = '';
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-passwords-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const envOf = (keys: readonly string[], prefix = 'env'): NodeJS.ProcessEnv => Object.fromEntries(keys.map((k) => [k, `${prefix}-${k}`]));

  it('all from the environment', async () => {
    assert.deepEqual(await loadPasswords(envOf(PASSWORD_KEYS), undefined), envOf(PASSWORD_KEYS));
  });
  it('the environment first, then a file of the same name (trailing newline dropped)', async () => {
    for (const k of PASSWORD_KEYS) await fs.writeFile(path.join(dir, k), `file-${k}\n`);
    const env = { ...envOf(['ADMIN_PASSWORD']), AGENT_PASSWORD: '' };
    const got = await loadPasswords(env, dir);
    assert.equal(got.ADMIN_PASSWORD, 'env-ADMIN_PASSWORD');
    assert.equal(got.AGENT_PASSWORD, 'file-AGENT_PASSWORD', 'an empty variable falls back to the file');
    assert.equal(got.WRITABLE_PASSWORD, 'file-WRITABLE_PASSWORD');
  });
  it('names every missing or empty password', async () => {
    await fs.rm(path.join(dir, 'BACKUP_PASSWORD'));
    await fs.writeFile(path.join(dir, 'EXPORTER_PASSWORD'), '');
    await assert.rejects(loadPasswords({}, dir), (err: unknown) => {
      assert.ok(hasCode(err, 'INVALID_ARGUMENT'));
      assert.match(err.message, /BACKUP_PASSWORD/);
      assert.match(err.message, /EXPORTER_PASSWORD/);
      assert.doesNotMatch(err.message, /ADMIN_PASSWORD/);
      assert.ok(err.message.includes(dir));
      return true;
    });
  });
  it('without a directory the error says how to give one', async () => {
    await assert.rejects(loadPasswords({}, undefined), /ADMIN_PASSWORD.*--passwords-dir/s);
  });
  it('only the required ones must be present', async () => {
    const got = await loadPasswords({ ADMIN_PASSWORD: 'a' }, undefined, ['ADMIN_PASSWORD']);
    assert.deepEqual(got, { ADMIN_PASSWORD: 'a' });
  });
});
