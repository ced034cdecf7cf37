import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { cloneStatements } from '../../../src/agent/clone/mysql.ts';
import { readBackupGtid } from '../../../src/agent/clone/mariadb.ts';

describe('cloneStatements (mysql)', () => {
  it('allows the donor as host:port, then clones with every value as a parameter', () => {
    const st = cloneStatements('moco-test-0.moco-test.default.svc', 33062);
    assert.deepEqual(st.donorList, ['SET GLOBAL clone_valid_donor_list = ?', ['moco-test-0.moco-test.default.svc:33062']]);
    assert.equal(st.clone, 'CLONE INSTANCE FROM ?@?:? IDENTIFIED BY ?');
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
