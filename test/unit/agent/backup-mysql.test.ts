/**
 * The MySQL 8.4 path of Backup and Restore, without a MySQL server (none is installed on the development machine):
 * every statement it issues goes to a fake of the agent's Db interface, every program it runs (mysqld,
 * mysqlbinlog, mysql) is a fake script that records its command line, and every parser gets MySQL's documented
 * output. The archives, the bucket (a directory), the staging directory and the manifests are real.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Agent } from '../../../src/agent/agent.ts';
import type { FlavorStatus } from '../../../src/agent/flavor/flavor.ts';
import { runBackup } from '../../../src/agent/backup/backup.ts';
import { RESTORED_FILE, restoreStatements, runRestore } from '../../../src/agent/backup/restore.ts';
import { replayBinlogs, replayCommand, mysqlToolVersion } from '../../../src/agent/backup/replay.ts';
import { selectBinlogs } from '../../../src/agent/backup/binlogs.ts';
import {
  CLONE_LOCAL_SQL, CLONE_STATUS_SQL, MYSQL_BACKUP_FORMAT, cloneLocal, cloneWorkDirOf, offlineInitSql, offlineMysqldArgs,
  parseCloneStatus, resetAccountsOffline,
} from '../../../src/agent/backup/mysql.ts';
import { STAGED_MARKER, stagedDirOf } from '../../../src/agent/datadir.ts';
import { openBucket } from '../../../src/backup/storage/index.ts';
import type { BackupManifest, BinlogManifest } from '../../../src/backup/layout.ts';
import type { BucketConfig__Output } from '../../../src/generated/moco/agent/v1/BucketConfig.ts';
import { PASSWORD_KEYS, USERS, type Passwords } from '../../../src/shared/accounts.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { FakeDb } from './fake-db.ts';

const UUID_A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const UUID_B = '8c9ba2d1-5b5e-11ef-8a3c-0242ac120002';
const SERVER_UUID = 'c0ffee00-0000-11ef-8000-000000000001';
const passwords = Object.fromEntries(PASSWORD_KEYS.map((k) => [k, `pw-${k}`])) as Passwords;
const log = silentLogger();

let root: string;
let fakeBin: string;
let record: string;

/** The clone_status row of a finished local clone into `dir`, as MySQL shows it. */
const cloneRow = (dir: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  state: 'Completed', source: 'LOCAL INSTANCE', destination: dir, errno: 0, error: '',
  binlogFile: './binlog.000003', binlogPosition: 197, gtid: `${UUID_A}:1-10,\n${UUID_B}:1-5`, ...over,
});

function fakeAgent(dataDir: string, db: FakeDb, status: Partial<FlavorStatus> = {}): Agent {
  const st = { flavor: 'mysql', version: '8.4.6', serverUuid: SERVER_UUID, executed: `${UUID_A}:1-12,${UUID_B}:1-5`, hasUserData: false, ...status };
  return {
    options: {
      dataDir, myCnfPath: path.join(root, 'my.cnf'), socketPath: path.join(root, 'mysqld.sock'),
      passwords: { agent: passwords.AGENT_PASSWORD, replication: passwords.REPLICATION_PASSWORD, cloneDonor: passwords.CLONE_DONOR_PASSWORD },
    },
    flavor: async () => ({ flavor: 'mysql' }),
    database: () => db,
    readFlavorStatus: async () => st,
  } as unknown as Agent;
}

async function script(name: string, body: string): Promise<string> {
  const p = path.join(fakeBin, name);
  await fs.writeFile(p, `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  return p;
}

const readRecord = (name: string): Promise<string> => fs.readFile(path.join(record, name), 'utf8');

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-mysql-backup-'));
  fakeBin = path.join(root, 'bin');
  record = path.join(root, 'record');
  await fs.mkdir(fakeBin);
  await fs.mkdir(record);
  await fs.writeFile(path.join(root, 'my.cnf'), '[mysqld]\n');
  // mysqld: answers --version like MySQL 8.4; otherwise records its command line and init file and behaves as
  // FAKE_MYSQLD says: "ok" runs until the test's SHUTDOWN creates $FAKE_RECORD/shutdown, "fail" logs an error
  // and exits 1, "hang" never answers and dies on SIGTERM.
  await script('mysqld', `
if [ "$2" = "--version" ]; then echo "/usr/sbin/mysqld  Ver 8.4.6 for Linux on x86_64 (MySQL Community Server - GPL)"; exit 0; fi
echo $$ > "$FAKE_RECORD/mysqld.pid"
printf '%s\\n' "$@" > "$FAKE_RECORD/mysqld.args"
for a in "$@"; do case "$a" in --init-file=*) cp "\${a#--init-file=}" "$FAKE_RECORD/init.sql";; --log-error=*) errlog="\${a#--log-error=}";; esac; done
case "$FAKE_MYSQLD" in
  fail) echo "2026-01-01T00:00:00Z 0 [ERROR] [MY-010455] [Server] Operation CREATE USER failed" >> "$errlog"; exit 1;;
  hang) trap 'exit 143' TERM; while :; do sleep 0.05; done;;
  *) trap 'exit 143' TERM; while [ ! -e "$FAKE_RECORD/shutdown" ]; do sleep 0.05; done; exit 0;;
esac`);
  await script('mariadbd', 'echo "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)"');
  await script('mysqlbinlog', `
if [ "$1" = "--version" ]; then echo "\${FAKE_BINLOG_VERSION:-mysqlbinlog  Ver 8.4.6 for Linux on x86_64 (MySQL Community Server - GPL)}"; exit 0; fi
printf '%s\\n' "$@" > "$FAKE_RECORD/mysqlbinlog.args"
echo "TZ=$TZ" > "$FAKE_RECORD/mysqlbinlog.env"
echo "BINLOG 'replayed';"`);
  await script('mysql', `
printf '%s\\n' "$@" > "$FAKE_RECORD/mysql.args"
for a in "$@"; do case "$a" in --defaults-file=*) cp "\${a#--defaults-file=}" "$FAKE_RECORD/client.cnf";; esac; done
cat > "$FAKE_RECORD/mysql.stdin"`);
  process.env.FAKE_RECORD = record;
});

after(async () => {
  delete process.env.FAKE_RECORD;
  delete process.env.FAKE_MYSQLD;
  await fs.rm(root, { recursive: true, force: true });
});

describe('clone_status (parseCloneStatus)', () => {
  const dir = '/var/lib/mysql.backup-clone';

  it('reads the GTID set on one line and the binlog file without its directory', () => {
    assert.deepEqual(parseCloneStatus([cloneRow(dir)], dir), { gtid: `${UUID_A}:1-10,${UUID_B}:1-5`, binlogFile: 'binlog.000003', binlogPosition: 197 });
    assert.deepEqual(parseCloneStatus([cloneRow(dir, { binlogFile: '/var/lib/mysql/binlog.000042', gtid: '', binlogPosition: '4' })], dir),
      { gtid: '', binlogFile: 'binlog.000042', binlogPosition: 4 });
  });

  it('refuses an empty table, a remote clone, an unfinished or failed clone and an unreadable GTID set', () => {
    assert.throws(() => parseCloneStatus([], dir), /clone_status is empty.*clone plugin/);
    assert.throws(() => parseCloneStatus([cloneRow(dir, { source: 'moco-0:3306' })], dir), /clone from moco-0:3306.*not the local clone/);
    assert.throws(() => parseCloneStatus([cloneRow(dir, { state: 'Failed', errno: 1086, error: 'File exists' })], dir),
      /ended in state "Failed": error 1086 File exists/);
    assert.throws(() => parseCloneStatus([cloneRow(dir, { state: 'In Progress' })], dir), /"In Progress"/);
    assert.throws(() => parseCloneStatus([cloneRow(dir, { gtid: 'not-a-gtid' })], dir), /unreadable GTID set "not-a-gtid"/);
  });
});

describe('cloneLocal', () => {
  it('removes a leftover directory, clones with the directory as a parameter on a cancellable connection, then reads clone_status', async () => {
    const dir = path.join(root, 'cl', 'data.backup-clone');
    await fs.mkdir(path.join(dir, 'leftover'), { recursive: true });
    let existed = true;
    const db = new FakeDb()
      .on('CLONE LOCAL', (params) => {
        existed = existsSync(params[0] as string);
        return [];
      })
      .on(CLONE_STATUS_SQL, [cloneRow(dir)]);
    const signal = AbortSignal.timeout(10_000);
    const pos = await cloneLocal(db, dir, signal);
    assert.equal(existed, false, 'MySQL requires that the target does not exist');
    assert.deepEqual(db.statements, [CLONE_LOCAL_SQL, CLONE_STATUS_SQL]);
    assert.equal(CLONE_LOCAL_SQL, 'CLONE LOCAL DATA DIRECTORY = ?');
    assert.deepEqual(db.calls[0]?.params, [dir]);
    assert.equal(db.calls[0]?.options?.signal, signal);
    assert.equal(pos.gtid, `${UUID_A}:1-10,${UUID_B}:1-5`);
    assert.match(CLONE_STATUS_SQL, /^SELECT STATE AS state, SOURCE AS source, .*BINLOG_FILE AS binlogFile, BINLOG_POSITION AS binlogPosition, GTID_EXECUTED AS gtid FROM performance_schema\.clone_status$/);
  });

  it('says what a failed clone needs', async () => {
    const dir = path.join(root, 'cl2', 'data.backup-clone');
    const db = new FakeDb().on('CLONE LOCAL', new Error("Can't create directory (Errcode: 13 - Permission denied)"));
    await assert.rejects(cloneLocal(db, dir, AbortSignal.timeout(10_000)),
      /CLONE LOCAL DATA DIRECTORY '.*' failed: Can't create directory .*clone plugin.*BACKUP_ADMIN.*may write to/);
  });
});

describe('selectBinlogs (mysql)', () => {
  const rows = (names: string[]) => names.map((n) => ({ Log_name: n, File_size: 100, Encrypted: 'No' }));
  const events = (prev: string) => [
    { Log_name: 'binlog.000003', Pos: 4, Event_type: 'Format_desc', Info: 'Server ver: 8.4.6, Binlog ver: 4' },
    { Log_name: 'binlog.000003', Pos: 126, Event_type: 'Previous_gtids', Info: prev },
    { Log_name: 'binlog.000003', Pos: 197, Event_type: 'Gtid', Info: `SET @@SESSION.GTID_NEXT= '${UUID_A}:9'` },
  ];
  const db = (prev: string) => new FakeDb()
    .on('SELECT @@log_bin_basename', [{ b: '/var/lib/mysql/binlog' }])
    .on('SHOW BINARY LOGS', rows(['binlog.000004', 'binlog.000002', 'binlog.000003', 'binlog.000005']))
    .on('SHOW BINLOG EVENTS', events(prev));

  it('takes the closed files from the previous backup\'s file; its Previous_gtids is within the previous set', async () => {
    const d = db(`${UUID_A}:1-8,\n${UUID_B}:1-5`);
    const sel = await selectBinlogs(d, 'mysql', 'binlog.000003', `${UUID_A}:1-10,${UUID_B}:1-5`);
    assert.deepEqual(sel, { dir: '/var/lib/mysql', files: ['/var/lib/mysql/binlog.000003', '/var/lib/mysql/binlog.000004'], gap: undefined });
    assert.deepEqual(d.calls.find((c) => c.sql.startsWith('SHOW BINLOG EVENTS')), { sql: 'SHOW BINLOG EVENTS IN ? LIMIT 4', params: ['binlog.000003'], options: undefined });
  });

  it('reports a gap when the first file starts after the previous backup (purged binlogs)', async () => {
    const sel = await selectBinlogs(db(`${UUID_A}:1-20`), 'mysql', 'binlog.000003', `${UUID_A}:1-10`);
    assert.match(sel.gap ?? '', new RegExp(`binlog binlog.000003 starts after ${UUID_A}:1-20, but the previous backup ends at ${UUID_A}:1-10`));
  });

  it('reports a gap when the previous backup\'s file is gone, and an empty Previous_gtids is no gap', async () => {
    assert.match((await selectBinlogs(db(''), 'mysql', 'binlog.000001', `${UUID_A}:1-10`)).gap ?? '', /binlog.000001 of the previous backup is no longer/);
    assert.equal((await selectBinlogs(db(''), 'mysql', 'binlog.000003', `${UUID_A}:1-10`)).gap, undefined);
  });
});

describe('replay commands', () => {
  const o = { fromGtid: `${UUID_A}:1-10`, stopDateTime: '2026-05-26 12:34:56', files: ['binlog.000003', 'binlog.000004'], optFile: '/w/client.cnf' };
  const client = ['--defaults-file=/w/client.cnf', '--binary-mode', '--init-command=SET SESSION sql_log_bin = 0'];

  it('mysql: MySQL\'s mysqlbinlog excluding the backup\'s GTID set, into the mysql client without binlogging', () => {
    const c = replayCommand('mysql', o);
    assert.deepEqual(c.reader, ['mysqlbinlog']);
    assert.deepEqual(c.readerArgs, [`--exclude-gtids=${UUID_A}:1-10`, '--stop-datetime=2026-05-26 12:34:56', 'binlog.000003', 'binlog.000004']);
    assert.deepEqual(c.client, ['mysql']);
    assert.deepEqual(c.clientArgs, client);
    assert.deepEqual(replayCommand('mysql', { ...o, fromGtid: '' }).readerArgs, ['--stop-datetime=2026-05-26 12:34:56', 'binlog.000003', 'binlog.000004']);
  });

  it('mariadb: unchanged, mariadb-binlog from the GTID position', () => {
    const c = replayCommand('mariadb', { ...o, fromGtid: '0-1-42' });
    assert.deepEqual(c.reader, ['mariadb-binlog', 'mysqlbinlog']);
    assert.deepEqual(c.readerArgs, ['--start-position=0-1-42', '--stop-datetime=2026-05-26 12:34:56', 'binlog.000003', 'binlog.000004']);
    assert.deepEqual(c.client, ['mariadb', 'mysql']);
    assert.deepEqual(c.clientArgs, client);
  });

  it('mysqlToolVersion tells MySQL\'s programs from MariaDB\'s', () => {
    assert.deepEqual(mysqlToolVersion('mysqlbinlog  Ver 8.4.6 for Linux on x86_64 (MySQL Community Server - GPL)'), [8, 4]);
    assert.deepEqual(mysqlToolVersion('/usr/bin/mysqlbinlog  Ver 8.4.11-0ubuntu0.26.04.1 for Linux on x86_64 ((Ubuntu))'), [8, 4]);
    assert.deepEqual(mysqlToolVersion('mysqlbinlog  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)'), [8, 0]);
    assert.equal(mysqlToolVersion('mysqlbinlog Ver 3.5 for debian-linux-gnu at x86_64'), undefined);
    assert.equal(mysqlToolVersion('mysql  Ver 15.1 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)'), undefined);
    assert.equal(mysqlToolVersion(''), undefined);
  });

  it('refuses a mysqlbinlog that is not MySQL 8.4\'s before downloading anything', async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = `${fakeBin}:${savedPath ?? ''}`;
    process.env.FAKE_BINLOG_VERSION = 'mysqlbinlog Ver 3.5 for debian-linux-gnu at x86_64';
    try {
      const bucket = { getObject: () => assert.fail('nothing is downloaded') } as never;
      await assert.rejects(replayBinlogs(fakeAgent(path.join(root, 'x'), new FakeDb()), bucket, {} as BinlogManifest, '', '2026-01-01 00:00:00',
        AbortSignal.timeout(10_000), log, () => undefined, { flavor: 'mysql', user: 'moco-admin', password: 'x' }),
      /is not MySQL 8.4's mysqlbinlog \(it says "mysqlbinlog Ver 3.5/);
    } finally {
      process.env.PATH = savedPath;
      delete process.env.FAKE_BINLOG_VERSION;
    }
  });
});

describe('restoreStatements', () => {
  it('mysql: super_read_only off around the replay (read_only stays), a fresh GTID history, super_read_only on in any case', () => {
    assert.deepEqual(restoreStatements('mysql'), {
      before: ['SET GLOBAL super_read_only = OFF'],
      after: ['STOP REPLICA', 'RESET REPLICA ALL', 'RESET BINARY LOGS AND GTIDS'],
      always: ['SET GLOBAL super_read_only = ON'],
    });
  });
  it('mariadb: as before', () => {
    assert.deepEqual(restoreStatements('mariadb'), {
      before: [], after: ['STOP SLAVE', 'RESET SLAVE ALL', "SET GLOBAL gtid_slave_pos = ''", 'RESET MASTER'], always: [],
    });
  });
});

describe('the temporary mysqld that resets the accounts', () => {
  it('has no network, its own socket, pid file and error log, no binlog, no replication, no read-only', () => {
    assert.deepEqual(offlineMysqldArgs('/etc/moco/my.cnf', '/var/lib/mysql.staged', '/tmp/w'), [
      '--defaults-file=/etc/moco/my.cnf', '--datadir=/var/lib/mysql.staged', '--skip-networking', '--mysqlx=OFF',
      '--socket=/tmp/w/mysqld.sock', '--pid-file=/tmp/w/mysqld.pid', '--log-error=/tmp/w/error.log',
      '--skip-log-bin', '--skip-replica-start', '--read-only=OFF', '--super-read-only=OFF',
      '--innodb-buffer-pool-size=134217728', '--init-file=/tmp/w/init.sql',
    ]);
  });

  it('init file: unbinlogged, every cluster account dropped then re-created with this cluster\'s password, no plugin, root kept', () => {
    const lines = offlineInitSql(passwords).trimEnd().split('\n');
    assert.equal(lines[0], 'SET SESSION sql_log_bin = 0;');
    for (const l of lines) assert.match(l, /;$/, 'one statement per line');
    for (const u of USERS) {
      const drop = lines.indexOf(`DROP USER IF EXISTS '${u.name}'@'%';`);
      const create = lines.indexOf(`CREATE USER IF NOT EXISTS '${u.name}'@'%' IDENTIFIED BY 'pw-${u.password}';`);
      assert.ok(drop >= 0 && create > drop, u.name);
      assert.ok(lines.some((l) => l.startsWith(`GRANT ${u.mysql.privileges.join(', ')} ON *.* TO '${u.name}'@'%'`)), u.name);
    }
    assert.ok(lines.includes("GRANT BINLOG_ADMIN, CLONE_ADMIN, RELOAD, REPLICATION CLIENT, SELECT, SERVICE_CONNECTION_ADMIN, SYSTEM_VARIABLES_ADMIN, " +
      "REPLICATION_SLAVE_ADMIN, CONNECTION_ADMIN, PROCESS, SHUTDOWN, BACKUP_ADMIN, SUPER ON *.* TO 'moco-agent'@'%';"), 'moco-agent has BACKUP_ADMIN');
    assert.ok(!lines.some((l) => l.includes('INSTALL PLUGIN') || l.includes("'root'")));
    assert.equal(lines.at(-1), 'FLUSH PRIVILEGES;');
  });

  const run = async (mode: string, db: FakeDb, timeoutMs = 20_000): Promise<string> => {
    const staged = await fs.mkdtemp(path.join(root, 'staged-'));
    await fs.rm(path.join(record, 'shutdown'), { force: true });
    process.env.FAKE_MYSQLD = mode;
    await resetAccountsOffline({
      mysqld: path.join(fakeBin, 'mysqld'), myCnfPath: '/etc/moco/my.cnf', dataDir: path.join(root, 'data'), staged, passwords, timeoutMs,
      signal: AbortSignal.timeout(30_000), log,
      connect: (socketPath, user, password) => {
        assert.equal(path.dirname(path.dirname(socketPath)), path.join(root, 'moco-tmp'), 'in the instance\'s scratch space, not /tmp');
        assert.match(socketPath, /restore-[^/]+\/mysqld\.sock$/);
        assert.deepEqual([user, password], ['moco-agent', 'pw-AGENT_PASSWORD']);
        return Object.assign(db, { close: async () => undefined });
      },
    });
    return staged;
  };

  it('runs mysqld with the init file, waits until moco-agent gets in with the new password, shuts it down and waits for it', async () => {
    let answered = 0;
    const db = new FakeDb()
      .on('SELECT 1', () => {
        if (++answered < 3) throw new Error('connect ENOENT mysqld.sock');
        return [{ ok: 1 }];
      })
      .on('SHUTDOWN', () => {
        writeFileSync(path.join(record, 'shutdown'), '');
        return [];
      });
    const staged = await run('ok', db);
    const args = (await readRecord('mysqld.args')).trimEnd().split('\n');
    const work = path.dirname(args.find((a) => a.startsWith('--socket='))!.slice('--socket='.length));
    assert.deepEqual(args, offlineMysqldArgs('/etc/moco/my.cnf', staged, work));
    assert.equal(await readRecord('init.sql'), offlineInitSql(passwords));
    assert.deepEqual(db.statements, ['SELECT 1 AS ok', 'SELECT 1 AS ok', 'SELECT 1 AS ok', 'SHUTDOWN']);
    assert.equal(existsSync(work), false, 'the init file (with passwords) is removed');
  });

  it('reports the end of mysqld\'s error log when it stops on the init file', async () => {
    const db = new FakeDb().on('SELECT 1', new Error('connect ENOENT'));
    await assert.rejects(run('fail', db), /the temporary mysqld exited with code 1 before it answered; mysqld's log ends with:\n.*Operation CREATE USER failed/);
  });

  it('stops a mysqld that never answers (by its PID) and says so', async () => {
    const db = new FakeDb().on('SELECT 1', new Error('connect ENOENT'));
    await assert.rejects(run('hang', db, 800), /did not answer within 1s/);
    const pid = Number(await readRecord('mysqld.pid'));
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});

describe('Backup and Restore of a MySQL instance (fakes for mysqld and the MySQL programs)', () => {
  const dataDir = (): string => path.join(root, 'src', 'data');
  const bucketDir = (): string => path.join(root, 'bucket');
  const bucketCfg = (): BucketConfig__Output => ({
    backendType: 'file', bucket: bucketDir(), region: '', endpointUrl: '', usePathStyle: false, caCertPem: '',
    accessKeyId: '', secretAccessKey: '', sessionToken: '',
  });
  const prefix = 'moco/default/src/';
  const cloneFiles: Record<string, string> = {
    'mysql.ibd': 'dictionary and grant tables'.repeat(1000), 'ibdata1': 'system'.repeat(500), 'undo_001': 'u',
    '#innodb_redo/#ib_redo5': 'redo'.repeat(300), '#clone/#view_status': '2 1\n', 'app/t.ibd': 'rows'.repeat(2000),
  };
  /** What these tests read of a BackupResult (whose generated type has every field optional). */
  type Done = { time: string; gtid: string; binlogFile: string; format: string; instanceId: string; workDirUsage: number; binlogSize: number; warnings: string[] };
  let first: Done;
  let second: Done;
  let db: FakeDb;

  const deps = () => ({ mariadbBackup: '/nonexistent', openBucket: () => openBucket({ backendType: 'file', bucket: bucketDir() }), log });
  const backupReq = (time: string, previous?: Done) => ({
    bucket: bucketCfg(), prefix, time, previousTime: previous?.time ?? '', previousGtid: previous?.gtid ?? '',
    previousBinlogFile: previous?.binlogFile ?? '', clusterNamespace: 'default', clusterName: 'src', sourceIndex: 1, compression: 'gzip',
  });

  before(async () => {
    await fs.mkdir(dataDir(), { recursive: true });
    await fs.mkdir(bucketDir());
    for (const n of ['binlog.000002', 'binlog.000003', 'binlog.000004', 'binlog.000005']) await fs.writeFile(path.join(dataDir(), n), `events of ${n}`);
  });

  beforeEach(() => {
    db = new FakeDb()
      .on('CLONE LOCAL', (params) => {
        const dir = params[0] as string;
        assert.equal(existsSync(dir), false);
        for (const [name, text] of Object.entries(cloneFiles)) {
          mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
          writeFileSync(path.join(dir, name), text);
        }
        return [];
      })
      .on(CLONE_STATUS_SQL, () => [cloneRow(cloneWorkDirOf(dataDir()))])
      .on('SELECT @@log_bin_basename', () => [{ b: path.join(dataDir(), 'binlog') }])
      .on('SHOW BINARY LOGS', [{ Log_name: 'binlog.000002' }, { Log_name: 'binlog.000003' }, { Log_name: 'binlog.000004' }, { Log_name: 'binlog.000005' }])
      .on('SHOW BINLOG EVENTS', [{ Event_type: 'Format_desc', Info: 'Server ver: 8.4.6, Binlog ver: 4' }, { Event_type: 'Previous_gtids', Info: `${UUID_A}:1-9,\n${UUID_B}:1-5` }]);
  });

  it('backup: a local clone next to the data directory, archived as base.tar.gz, the manifest says mysql-clone/tar', async () => {
    const phases: string[] = [];
    first = (await runBackup(fakeAgent(dataDir(), db), backupReq('20260101-000000'), deps(), AbortSignal.timeout(30_000), (p) => phases.push(p.phase))) as Done;
    const size = Object.values(cloneFiles).reduce((n, t) => n + t.length, 0);
    assert.equal(first.format, MYSQL_BACKUP_FORMAT);
    assert.equal(first.instanceId, SERVER_UUID, 'MySQL\'s instance identity is server_uuid');
    assert.equal(first.gtid, `${UUID_A}:1-10,${UUID_B}:1-5`);
    assert.equal(first.binlogFile, 'binlog.000003');
    assert.equal(first.workDirUsage, size);
    assert.equal(first.binlogSize, 0);
    assert.deepEqual(db.statements, [CLONE_LOCAL_SQL, CLONE_STATUS_SQL], 'no SHOW MASTER STATUS (gone in 8.4)');
    assert.deepEqual(db.calls[0]?.params, [cloneWorkDirOf(dataDir())]);
    assert.equal(existsSync(cloneWorkDirOf(dataDir())), false, 'the clone is removed');
    assert.ok(phases.includes('backup') && phases.at(-1) === 'manifest');

    const m = JSON.parse(await fs.readFile(path.join(bucketDir(), prefix, '20260101-000000', 'manifest.json'), 'utf8')) as BackupManifest;
    assert.equal(m.format, 'mysql-clone/tar');
    assert.equal(m.flavor, 'mysql');
    assert.equal(m.version, '8.4.6');
    assert.equal(m.gtid, first.gtid);
    assert.equal(m.binlogFile, 'binlog.000003');
    assert.equal(m.instanceId, SERVER_UUID);
    assert.equal(m.base.key, `${prefix}20260101-000000/base.tar.gz`);
    assert.equal(m.base.compression, 'gzip');
    assert.equal((await fs.stat(path.join(bucketDir(), m.base.key))).size, m.base.size);
  });

  it('backup: the next one archives the binlogs since the previous one into its directory', async () => {
    second = (await runBackup(fakeAgent(dataDir(), db), backupReq('20260101-010000', first), deps(), AbortSignal.timeout(30_000), () => undefined)) as Done;
    assert.deepEqual(second.warnings, []);
    assert.ok(second.binlogSize > 0);
    assert.ok(db.statements.includes('FLUSH BINARY LOGS'));
    const b = JSON.parse(await fs.readFile(path.join(bucketDir(), prefix, '20260101-000000', 'binlog.json'), 'utf8')) as BinlogManifest;
    assert.deepEqual(b.files, ['binlog.000003', 'binlog.000004']);
    assert.equal(b.fromGtid, first.gtid);
    assert.equal(b.toGtid, `${UUID_A}:1-12,${UUID_B}:1-5`);
    assert.equal(b.instanceId, SERVER_UUID);
    assert.equal(b.archive.key, `${prefix}20260101-000000/binlog.tar.gz`);
  });

  it('restore: unpacks into the staging directory, resets the accounts offline, restarts, replays as moco-admin, fresh GTID history', async () => {
    const target = path.join(root, 'dst', 'data');
    await fs.mkdir(target, { recursive: true });
    const live = new FakeDb()
      .on('SHOW GLOBAL STATUS', [{ Variable_name: 'Uptime', Value: '0' }]);
    const offline = new FakeDb()
      .on('SELECT 1', [{ ok: 1 }])
      .on('SHUTDOWN', () => {
        writeFileSync(path.join(record, 'shutdown'), '');
        return [];
      });
    await fs.rm(path.join(record, 'shutdown'), { force: true });
    const saved = { PATH: process.env.PATH, MOCO_MYSQLD: process.env.MOCO_MYSQLD };
    process.env.PATH = `${fakeBin}:${saved.PATH ?? ''}`;
    process.env.MOCO_MYSQLD = path.join(fakeBin, 'mysqld');
    process.env.FAKE_MYSQLD = 'ok';
    const phases: string[] = [];
    try {
      const result = await runRestore(fakeAgent(target, live, { hasUserData: false }), {
        bucket: bucketCfg(), prefix, time: first.time, applyBinlog: true, restorePoint: '2026-01-01T00:30:00Z', passwords,
      }, {
        mariadbBackup: '/nonexistent', mbstream: '/nonexistent', openBucket: () => openBucket({ backendType: 'file', bucket: bucketDir() }),
        lifetime: AbortSignal.timeout(60_000), log, offlineConnect: () => Object.assign(offline, { close: async () => undefined }),
      }, AbortSignal.timeout(60_000), (p) => phases.push(p.phase));
      assert.equal(result.binlogApplied, true);
      assert.ok(Number(result.downloadedBytes) > 0);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.MOCO_MYSQLD === undefined) delete process.env.MOCO_MYSQLD;
      else process.env.MOCO_MYSQLD = saved.MOCO_MYSQLD;
    }
    assert.deepEqual([...new Set(phases)], ['download', 'prepare', 'restart', 'binlog']);

    // The staged copy: the clone's files, byte for byte, marked complete for run-mysqld to swap in.
    const staged = stagedDirOf(target);
    for (const [name, text] of Object.entries(cloneFiles)) assert.equal(await fs.readFile(path.join(staged, name), 'utf8'), text, name);
    assert.ok(existsSync(path.join(staged, STAGED_MARKER)));
    assert.equal(existsSync(path.join(staged, 'auto.cnf')), false, 'a new server_uuid');

    // The temporary mysqld ran on the staged directory with the init file.
    const args = (await readRecord('mysqld.args')).trimEnd().split('\n');
    assert.ok(args.includes(`--datadir=${staged}`) && args.includes(`--defaults-file=${path.join(root, 'my.cnf')}`));
    assert.equal(await readRecord('init.sql'), offlineInitSql(passwords));
    assert.deepEqual(offline.statements, ['SELECT 1 AS ok', 'SHUTDOWN']);

    // The live instance: restarted, super_read_only off only around the replay, a fresh GTID history.
    assert.deepEqual(live.writes.map(([sql]) => sql), [
      'SHUTDOWN', 'SET GLOBAL super_read_only = OFF', 'STOP REPLICA', 'RESET REPLICA ALL', 'RESET BINARY LOGS AND GTIDS',
      'SET GLOBAL super_read_only = ON',
    ]);

    // mysqlbinlog | mysql, as moco-admin, in UTC, skipping what the copy holds.
    assert.deepEqual((await readRecord('mysqlbinlog.args')).trimEnd().split('\n'),
      [`--exclude-gtids=${first.gtid}`, '--stop-datetime=2026-01-01 00:30:00', 'binlog.000003', 'binlog.000004']);
    assert.equal((await readRecord('mysqlbinlog.env')).trim(), 'TZ=UTC');
    const mysqlArgs = (await readRecord('mysql.args')).trimEnd().split('\n');
    assert.match(mysqlArgs[0] ?? '', /^--defaults-file=.*\.restore-binlog\/client\.cnf$/);
    assert.deepEqual(mysqlArgs.slice(1), ['--binary-mode', '--init-command=SET SESSION sql_log_bin = 0']);
    assert.equal(await readRecord('client.cnf'), `[client]\nuser=moco-admin\npassword="pw-ADMIN_PASSWORD"\nsocket=${path.join(root, 'mysqld.sock')}\n`);
    assert.equal((await readRecord('mysql.stdin')).trim(), "BINLOG 'replayed';");

    const rec = JSON.parse(await fs.readFile(path.join(target, RESTORED_FILE), 'utf8')) as { time: string };
    assert.equal(rec.time, first.time);
  });

  it('restore: super_read_only goes back on when the replay fails', async () => {
    const target = path.join(root, 'dst2', 'data');
    await fs.mkdir(target, { recursive: true });
    const live = new FakeDb().on('SHOW GLOBAL STATUS', [{ Variable_name: 'Uptime', Value: '0' }]);
    const offline = new FakeDb().on('SELECT 1', [{ ok: 1 }]).on('SHUTDOWN', () => {
      writeFileSync(path.join(record, 'shutdown'), '');
      return [];
    });
    await fs.rm(path.join(record, 'shutdown'), { force: true });
    const saved = { PATH: process.env.PATH, MOCO_MYSQLD: process.env.MOCO_MYSQLD };
    process.env.PATH = `${fakeBin}:${saved.PATH ?? ''}`;
    process.env.MOCO_MYSQLD = path.join(fakeBin, 'mysqld');
    process.env.FAKE_BINLOG_VERSION = 'mysqlbinlog Ver 3.5 for debian-linux-gnu at x86_64';
    try {
      await assert.rejects(runRestore(fakeAgent(target, live), {
        bucket: bucketCfg(), prefix, time: first.time, applyBinlog: true, restorePoint: '2026-01-01T00:30:00Z', passwords,
      }, {
        mariadbBackup: '', mbstream: '', openBucket: () => openBucket({ backendType: 'file', bucket: bucketDir() }),
        lifetime: AbortSignal.timeout(60_000), log, offlineConnect: () => Object.assign(offline, { close: async () => undefined }),
      }, AbortSignal.timeout(60_000), () => undefined), /not MySQL 8.4's mysqlbinlog/);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.MOCO_MYSQLD === undefined) delete process.env.MOCO_MYSQLD;
      else process.env.MOCO_MYSQLD = saved.MOCO_MYSQLD;
      delete process.env.FAKE_BINLOG_VERSION;
    }
    assert.deepEqual(live.writes.map(([sql]) => sql), ['SHUTDOWN', 'SET GLOBAL super_read_only = OFF', 'SET GLOBAL super_read_only = ON']);
  });

  it('restore: refuses a MariaDB backup, and a MariaDB mysqld, with what to do', async () => {
    const target = path.join(root, 'dst3', 'data');
    await fs.mkdir(target, { recursive: true });
    const m = JSON.parse(await fs.readFile(path.join(bucketDir(), prefix, first.time, 'manifest.json'), 'utf8')) as BackupManifest;
    await fs.mkdir(path.join(bucketDir(), prefix, '20250101-000000'), { recursive: true });
    await fs.writeFile(path.join(bucketDir(), prefix, '20250101-000000', 'manifest.json'), JSON.stringify({ ...m, format: 'mariadb-backup/xbstream', flavor: 'mariadb' }));
    const saved = process.env.MOCO_MYSQLD;
    const restore = (time: string) => runRestore(fakeAgent(target, new FakeDb()), {
      bucket: bucketCfg(), prefix, time, applyBinlog: false, restorePoint: '', passwords,
    }, {
      mariadbBackup: '', mbstream: '', openBucket: () => openBucket({ backendType: 'file', bucket: bucketDir() }),
      lifetime: AbortSignal.timeout(60_000), log,
    }, AbortSignal.timeout(60_000), () => undefined);
    try {
      process.env.MOCO_MYSQLD = path.join(fakeBin, 'mysqld');
      await assert.rejects(restore('20250101-000000'),
        /has format mariadb-backup\/xbstream, which this instance \(MySQL\) cannot restore \(it restores mysql-clone\/tar\); restore it into a cluster of the flavor/);
      process.env.MOCO_MYSQLD = path.join(fakeBin, 'mariadbd');
      await assert.rejects(restore(first.time), /is MariaDB's, but restoring a MySQL instance runs MySQL 8.4's mysqld.*MOCO_MYSQLD/);
    } finally {
      if (saved === undefined) delete process.env.MOCO_MYSQLD;
      else process.env.MOCO_MYSQLD = saved;
    }
    assert.equal(existsSync(stagedDirOf(target)), false);
  });
});
