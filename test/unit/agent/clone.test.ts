import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { cloneStatements, reinitStatements } from '../../../src/agent/clone/mysql.ts';
import { GtidScanner, copiedAccount } from '../../../src/agent/clone/external.ts';
import { PASSWORD_KEYS, USERS, type Passwords } from '../../../src/shared/accounts.ts';
import { readBackupGtid } from '../../../src/agent/clone/mariadb.ts';

describe('cloneStatements (mysql)', () => {
  it('allows the donor as host:port, then clones with every value as a parameter', () => {
    const st = cloneStatements('moco-test-0.moco-test.default.svc', 33062);
    assert.deepEqual(st.donorList, ['SET GLOBAL clone_valid_donor_list = ?', ['moco-test-0.moco-test.default.svc:33062']]);
    assert.equal(st.clone, 'CLONE INSTANCE FROM ?@?:? IDENTIFIED BY ?');
  });
});

describe('reinitStatements (mysql, clone from an external donor)', () => {
  const passwords = Object.fromEntries(PASSWORD_KEYS.map((k) => [k, `pw-${k}`])) as Passwords;
  const { statements, plugins } = reinitStatements(passwords);

  it('drops every cluster account before re-creating it with this cluster\'s password, unbinlogged', () => {
    assert.equal(statements[0], 'SET SESSION sql_log_bin = 0;');
    for (const u of USERS) {
      const drop = statements.indexOf(`DROP USER IF EXISTS '${u.name}'@'%';`);
      const create = statements.findIndex((l) => l.startsWith(`CREATE USER IF NOT EXISTS '${u.name}'@'%' IDENTIFIED BY 'pw-${u.password}'`));
      assert.ok(drop >= 0 && create > drop, u.name);
    }
  });

  it('keeps the donor\'s root and installs the plugins separately (they may exist already)', () => {
    assert.ok(!statements.some((l) => l.includes("'root'")));
    assert.deepEqual(plugins.map((p) => p.split(' ')[2]), ['rpl_semi_sync_master', 'rpl_semi_sync_slave', 'clone']);
    assert.equal(statements.at(-1), 'FLUSH PRIVILEGES;');
  });
});

describe('external copy (mariadb)', () => {
  it('copies application accounts only: not root, system or the cluster\'s own', () => {
    assert.deepEqual(
      [['app', '%'], ['root', 'localhost'], ['mariadb.sys', 'localhost'], ['moco-admin', '%'], ['', 'localhost'], ['PUBLIC', ''], ['reporting', '10.%']]
        .map(([u, h]) => copiedAccount(u as string, h as string)),
      [true, false, false, false, false, false, true],
    );
  });

  it('finds the dump\'s GTID comment even when it is split across chunks, and counts bytes', () => {
    let counted = 0;
    const s = new GtidScanner((n) => { counted += n; });
    const text = "INSERT INTO t VALUES (1,'-- SET GLOBAL gtid_slave_pos=''9-9-9'';');\n-- SET GLOBAL gtid_slave_pos='0-100-7';\n-- Dump completed\n";
    const cut = text.indexOf('gtid_slave_pos=\'0');
    const out: Buffer[] = [];
    s.on('data', (b: Buffer) => out.push(b));
    s.write(Buffer.from(text.slice(0, cut)));
    s.write(Buffer.from(text.slice(cut)));
    s.end();
    assert.equal(s.gtid, '0-100-7');
    assert.equal(counted, Buffer.byteLength(text));
    assert.equal(Buffer.concat(out).toString(), text);
  });
});

describe('readBackupGtid (mariadb)', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-clone-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string): Promise<void> => fs.writeFile(path.join(dir, name), text);

  const cases: { name: string; files: Record<string, string>; want: string }[] = [
    { name: 'xtrabackup_binlog_info (10.11)', files: { xtrabackup_binlog_info: 'binlog.000001\t206871486\t0-2-104\n' }, want: '0-2-104' },
    { name: 'mariadb_backup_binlog_info (newer name)', files: { mariadb_backup_binlog_info: 'binlog.000001\t206871486\t0-2-104\n' }, want: '0-2-104' },
    {
      name: 'the newer name wins when both exist',
      files: { mariadb_backup_binlog_info: 'binlog.000002\t385\t0-2-110\n', xtrabackup_binlog_info: 'binlog.000001\t206871486\t0-2-104\n' },
      want: '0-2-110',
    },
    { name: 'several domains', files: { xtrabackup_binlog_info: 'binlog.000003\t1024\t0-1-12,1-2-7\n' }, want: '0-1-12,1-2-7' },
    { name: 'no GTID column (the donor never binlogged a GTID)', files: { xtrabackup_binlog_info: 'binlog.000001\t328\n' }, want: '' },
    { name: 'empty file', files: { xtrabackup_binlog_info: '' }, want: '' },
    { name: 'no binlog info file at all', files: {}, want: '' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      for (const [name, text] of Object.entries(c.files)) await write(name, text);
      assert.equal(await readBackupGtid(dir), c.want);
    });
  }

  it('an unreadable info file is an error, not an empty position', async () => {
    await fs.mkdir(path.join(dir, 'xtrabackup_binlog_info'));
    await assert.rejects(readBackupGtid(dir), { code: 'EISDIR' });
  });
});
