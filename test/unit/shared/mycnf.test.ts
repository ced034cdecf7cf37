import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { baseName, bufferPoolSize, generateMyCnf, parseQuantity, type MyCnfInput } from '../../../src/shared/mycnf.ts';
import { MARIADB_DEFAULTS, MARIADB_DROPPED_DEFAULTS, MYSQL_DEFAULTS } from '../../../src/shared/mycnf-defaults.ts';
import { hasCode } from '../../../src/shared/errors.ts';

const MiB = 1024 * 1024;

const PATHS = {
  dataDir: '/var/lib/n1/data',
  socket: '/run/n1/mysqld.sock',
  pidFile: '/run/n1/mysqld.pid',
  errorLog: '/var/log/n1/error.log',
  slowLog: '/var/log/n1/slow.log',
  tmpDir: '/var/lib/n1/tmp',
};

function input(overrides: Partial<MyCnfInput> = {}): MyCnfInput {
  return { flavor: 'mysql', paths: PATHS, port: 3306, serverId: 7, ...overrides };
}

/** The generated text as section → (key → value), failing on a line that is not `key = value`. */
function parse(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] ?? '', current);
    } else if (line !== '' && !line.startsWith('!')) {
      const kv = /^([A-Za-z0-9_.]+) = (.*)$/.exec(line);
      assert.ok(kv && current, `unexpected line ${JSON.stringify(line)}`);
      current.set(kv[1] ?? '', kv[2] ?? '');
    }
  }
  return sections;
}

function mysqld(overrides: Partial<MyCnfInput> = {}): Map<string, string> {
  const section = parse(generateMyCnf(input(overrides))).get('mysqld');
  assert.ok(section);
  return section;
}

const invalid = (err: unknown): boolean => hasCode(err, 'INVALID_ARGUMENT');

describe('bufferPoolSize', () => {
  it('100MiB gives the 128MiB minimum', () => assert.equal(bufferPoolSize(100 * MiB), 134217728));
  it('1000MiB gives 70% rounded down to a MiB', () => assert.equal(bufferPoolSize(1000 * MiB), 734003200));
  it('500MiB gives 350MiB', () => assert.equal(bufferPoolSize(500 * MiB), 367001600));
  it('no memory gives 128MiB', () => {
    assert.equal(bufferPoolSize(undefined), 134217728);
    assert.equal(bufferPoolSize(0), 134217728);
  });
  it('rounds down to a whole MiB', () => assert.equal(bufferPoolSize(1001 * MiB) % MiB, 0));
  it('rejects negative and non-finite memory', () => {
    assert.throws(() => bufferPoolSize(-1), invalid);
    assert.throws(() => bufferPoolSize(Number.NaN), invalid);
  });
});

describe('generateMyCnf: buffer pool', () => {
  it('uses the rule for the given memory', () => {
    assert.equal(mysqld({ memoryBytes: 1000 * MiB }).get('innodb_buffer_pool_size'), '734003200');
  });
  it('uses 128MiB without memory', () => {
    assert.equal(mysqld().get('innodb_buffer_pool_size'), '134217728');
  });
  it('passes a user value unchanged', () => {
    const s = mysqld({ memoryBytes: 1000 * MiB, userConf: { 'innodb-buffer-pool-size': '3G' } });
    assert.equal(s.get('innodb_buffer_pool_size'), '3G');
  });
  it('a loose_ user value replaces the computed one', () => {
    const s = mysqld({ userConf: { loose_innodb_buffer_pool_size: '1G' } });
    assert.equal(s.get('loose_innodb_buffer_pool_size'), '1G');
    assert.equal(s.has('innodb_buffer_pool_size'), false);
  });
});

describe('generateMyCnf: user settings', () => {
  it('normalizes - to _', () => {
    assert.equal(mysqld({ userConf: { 'long-query-time': '5' } }).get('long_query_time'), '5');
  });
  it('a plain user key replaces a loose_ default', () => {
    const s = mysqld({ userConf: { innodb_numa_interleave: 'OFF' } });
    assert.equal(s.get('innodb_numa_interleave'), 'OFF');
    assert.equal(s.has('loose_innodb_numa_interleave'), false);
  });
  it('a loose_ user key replaces a plain default', () => {
    const s = mysqld({ userConf: { 'loose-temptable-use-mmap': 'ON' } });
    assert.equal(s.get('loose_temptable_use_mmap'), 'ON');
    assert.equal(s.has('temptable_use_mmap'), false);
  });
  it('a skip_ user key replaces the default of the same option', () => {
    const s = mysqld({ userConf: { skip_slow_query_log: 'ON' } });
    assert.equal(s.get('skip_slow_query_log'), 'ON');
    assert.equal(s.has('slow_query_log'), false);
  });
  it('drops log_bin, log_error, skip_log_bin, disable_log_bin and their loose_ forms', () => {
    const userConf = {
      log_bin: '/elsewhere/bin',
      'log-error': '/dev/null',
      skip_log_bin: '',
      'disable-log-bin': '',
      loose_log_bin: 'x',
      loose_log_error: 'x',
      loose_skip_log_bin: '',
    };
    const s = mysqld({ userConf });
    assert.equal(s.get('log_bin'), 'binlog');
    assert.equal(s.get('log_error'), PATHS.errorLog);
    for (const key of ['skip_log_bin', 'disable_log_bin', 'loose_log_bin', 'loose_log_error', 'loose_skip_log_bin']) {
      assert.equal(s.has(key), false, key);
    }
  });
  it('passes unknown keys through', () => {
    assert.equal(mysqld({ userConf: { foo: 'bar', 'validate_password.policy': 'LOW' } }).get('foo'), 'bar');
  });
  it('constants beat user values', () => {
    const s = mysqld({ userConf: { read_only: 'OFF', gtid_mode: 'OFF', port: '1', datadir: '/x', server_id: '99' } });
    assert.equal(s.get('read_only'), 'ON');
    assert.equal(s.get('gtid_mode'), 'ON');
    assert.equal(s.get('port'), '3306');
    assert.equal(s.get('datadir'), PATHS.dataDir);
    assert.equal(s.get('server_id'), '7');
  });
  it('constants remove loose_ and skip_ forms of the same option', () => {
    const s = mysqld({ userConf: { skip_read_only: 'ON', loose_super_read_only: 'OFF', 'skip-log-replica-updates': '' } });
    assert.equal(s.get('read_only'), 'ON');
    for (const key of ['skip_read_only', 'loose_super_read_only', 'skip_log_replica_updates']) assert.equal(s.has(key), false, key);
  });
  it('durability and tmpdir are defaults the user may change', () => {
    const before = mysqld();
    assert.equal(before.get('sync_binlog'), '1');
    assert.equal(before.get('innodb_flush_log_at_trx_commit'), '1');
    assert.equal(before.get('tmpdir'), PATHS.tmpDir);
    const after = mysqld({ userConf: { sync_binlog: '0', innodb_flush_log_at_trx_commit: '2', tmpdir: '/fast' } });
    assert.equal(after.get('sync_binlog'), '0');
    assert.equal(after.get('innodb_flush_log_at_trx_commit'), '2');
    assert.equal(after.get('tmpdir'), '/fast');
  });
  it('rejects two user keys for one setting', () => {
    assert.throws(() => generateMyCnf(input({ userConf: { innodb_numa_interleave: 'ON', loose_innodb_numa_interleave: 'OFF' } })), invalid);
    assert.throws(() => generateMyCnf(input({ userConf: { 'max-connections': '10', max_connections: '20' } })), invalid);
  });
  it('accepts the same key twice with the same value', () => {
    assert.equal(mysqld({ userConf: { 'max-connections': '10', max_connections: '10' } }).get('max_connections'), '10');
  });
  it('rejects line breaks in values and bad option names', () => {
    assert.throws(() => generateMyCnf(input({ userConf: { foo: 'a\nread_only = OFF' } })), invalid);
    assert.throws(() => generateMyCnf(input({ userConf: { 'foo bar': '1' } })), invalid);
    assert.throws(() => generateMyCnf(input({ userConf: { 'x=y': '1' } })), invalid);
  });
});

describe('generateMyCnf: _include', () => {
  it('is inserted verbatim right after the [mysqld] header', () => {
    const text = generateMyCnf(input({ userConf: { _include: '!include /etc/extra.cnf' } }));
    assert.match(text, /\n\[mysqld\]\n!include \/etc\/extra\.cnf\n[a-z]/);
    assert.equal(text.split('!include /etc/extra.cnf').length, 2);
  });
  it('reopens [mysqld] when it switches group', () => {
    const text = generateMyCnf(input({ userConf: { _include: '[mysqldump]\nquick' } }));
    assert.match(text, /\n\[mysqld\]\n\[mysqldump\]\nquick\n\[mysqld\]\n[a-z]/);
  });
});

describe('generateMyCnf: format', () => {
  it('sorts sections and keys, one blank line after each section', () => {
    const text = generateMyCnf(input({ userConf: { aaa: '1', zzz: '2' } }));
    const lines = text.split('\n');
    assert.deepEqual(lines.filter((l) => l.startsWith('[')), ['[client]', '[mysql]', '[mysqld]']);
    let keys: string[] = [];
    for (const line of lines) {
      if (line.startsWith('[') || line === '') {
        assert.deepEqual(keys, [...keys].sort());
        keys = [];
      } else {
        keys.push(line.split(' = ')[0] ?? '');
      }
    }
    assert.ok(text.endsWith('\n\n'));
    assert.equal(text.includes('\n\n\n'), false);
    assert.ok(text.includes('\n\n[mysql]\n') && text.includes('\n\n[mysqld]\n'));
  });
  it('writes [client] and [mysql] as the seed does', () => {
    const sections = parse(generateMyCnf(input()));
    assert.deepEqual(Object.fromEntries(sections.get('client') ?? []), {
      loose_default_character_set: 'utf8mb4',
      port: '3306',
      socket: PATHS.socket,
    });
    assert.deepEqual(Object.fromEntries(sections.get('mysql') ?? []), {
      auto_rehash: 'OFF',
      init_command: '"SET autocommit=0"',
    });
  });
  it('is deterministic whatever the order of the user keys', () => {
    const a = generateMyCnf(input({ userConf: { b: '1', a: '2', _include: 'x = 1' } }));
    const b = generateMyCnf(input({ userConf: { _include: 'x = 1', a: '2', b: '1' } }));
    assert.equal(a, b);
  });
  it('ends with !includedir when includeDir is set', () => {
    const text = generateMyCnf(input({ includeDir: '/etc/mysql-conf.d' }));
    assert.ok(text.endsWith('\n\n!includedir /etc/mysql-conf.d\n'));
    assert.equal(generateMyCnf(input()).includes('!includedir'), false);
  });
});

describe('generateMyCnf: instance settings', () => {
  it('takes paths, port and server id from the input', () => {
    const s = mysqld();
    assert.equal(s.get('socket'), PATHS.socket);
    assert.equal(s.get('pid_file'), PATHS.pidFile);
    assert.equal(s.get('slow_query_log_file'), PATHS.slowLog);
    assert.equal(s.get('innodb_tmpdir'), PATHS.tmpDir);
    assert.equal(s.get('server_id'), '7');
  });
  it('admin port only when given, on 127.0.0.1 unless told', () => {
    assert.equal(mysqld().has('admin_port'), false);
    assert.equal(mysqld().has('admin_address'), false);
    const s = mysqld({ adminPort: 33062 });
    assert.equal(s.get('admin_port'), '33062');
    assert.equal(s.get('admin_address'), '127.0.0.1');
    assert.equal(mysqld({ adminPort: 33062, adminAddress: 'pod-0' }).get('admin_address'), 'pod-0');
  });
  it('report_host and report_port, user, only when given', () => {
    assert.equal(mysqld().has('report_host'), false);
    assert.equal(mysqld().has('user'), false);
    const s = mysqld({ reportHost: '10.0.0.5', port: 3307, osUser: 'root' });
    assert.equal(s.get('report_host'), '10.0.0.5');
    assert.equal(s.get('report_port'), '3307');
    assert.equal(s.get('user'), 'root');
  });
  it('bind_address defaults by profile', () => {
    assert.equal(mysqld().get('bind_address'), '0.0.0.0');
    assert.equal(mysqld({ profile: 'small' }).get('bind_address'), '127.0.0.1');
    assert.equal(mysqld({ bindAddress: '10.1.2.3' }).get('bind_address'), '10.1.2.3');
  });
  it('rejects bad instance input', () => {
    const bad: Partial<MyCnfInput>[] = [
      { port: 0 },
      { port: 70000 },
      { serverId: 0 },
      { serverId: 1.5 },
      { adminPort: 0 },
      { adminAddress: '127.0.0.1' },
      { flavor: 'mariadb', adminPort: 33062 },
      { paths: { ...PATHS, socket: `/tmp/${'s'.repeat(110)}` } },
      { paths: { ...PATHS, dataDir: '' } },
      { paths: { ...PATHS, errorLog: '/x\n[client]' } },
      { osUser: 'root\nread_only = OFF' },
      { includeDir: '/x\ny' },
    ];
    for (const overrides of bad) {
      assert.throws(() => generateMyCnf(input(overrides)), invalid, JSON.stringify(overrides));
    }
  });
});

describe('generateMyCnf: flavors and profiles', () => {
  it('MySQL has the seed defaults and constants', () => {
    const s = mysqld();
    for (const [key, value] of Object.entries(MYSQL_DEFAULTS)) assert.equal(s.get(key), value, key);
    for (const key of ['super_read_only', 'gtid_mode', 'enforce_gtid_consistency', 'skip_replica_start', 'log_replica_updates']) {
      assert.equal(s.get(key), 'ON', key);
    }
    assert.equal(s.get('secure_file_priv'), 'NULL');
    assert.equal(s.get('relay_log'), 'relay');
    assert.equal(s.get('relay_log_recovery'), 'OFF');
    assert.equal(s.get('loose_rpl_semi_sync_master_wait_point'), 'AFTER_SYNC');
    assert.equal(s.get('loose_rpl_semi_sync_master_wait_no_slave'), 'ON');
    assert.equal(s.get('mysqlx_port'), '33060');
  });
  it('MariaDB has no MySQL-only options, and its own GTID and semi-sync settings', () => {
    const s = mysqld({ flavor: 'mariadb' });
    for (const key of ['super_read_only', 'gtid_mode', 'enforce_gtid_consistency', 'mysqlx_port', 'mysqlx', 'secure_file_priv',
      'log_replica_updates', 'skip_replica_start', ...Object.keys(MARIADB_DROPPED_DEFAULTS)]) {
      assert.equal(s.has(key), false, key);
    }
    for (const [key, value] of Object.entries(MARIADB_DEFAULTS)) assert.equal(s.get(key), value, key);
    assert.equal(s.get('gtid_strict_mode'), 'ON');
    assert.equal(s.get('gtid_domain_id'), '0');
    assert.equal(s.get('log_slave_updates'), 'ON');
    assert.equal(s.get('skip_slave_start'), 'ON');
    assert.equal(s.get('read_only'), 'ON');
    assert.equal(s.get('log_bin_index'), 'binlog.index');
    assert.equal(s.get('relay_log_index'), 'relay.index');
    assert.equal(s.get('rpl_semi_sync_master_wait_point'), 'AFTER_SYNC');
    assert.equal(s.get('rpl_semi_sync_master_timeout'), '4294967295');
    assert.equal(s.get('rpl_semi_sync_slave_enabled'), 'ON');
    assert.equal(s.get('transaction_isolation'), 'READ-COMMITTED');
  });
  it('MariaDB trusts function creators by default (only moco-agent holds SUPER there), and the user may say otherwise', () => {
    assert.equal(mysqld({ flavor: 'mariadb' }).get('log_bin_trust_function_creators'), 'ON');
    assert.equal(mysqld({ flavor: 'mariadb', userConf: { log_bin_trust_function_creators: 'OFF' } }).get('log_bin_trust_function_creators'), 'OFF');
    assert.equal(mysqld().has('log_bin_trust_function_creators'), false, 'MySQL keeps the seed defaults');
  });
  it('MariaDB keeps read_only over a user value too', () => {
    assert.equal(mysqld({ flavor: 'mariadb', userConf: { read_only: 'OFF', gtid_strict_mode: 'OFF' } }).get('read_only'), 'ON');
  });
  it('small profile shrinks caches and the redo log, still overridable', () => {
    const s = mysqld({ profile: 'small' });
    assert.equal(s.get('innodb_log_file_size'), '48M');
    assert.equal(s.get('max_connections'), '200');
    assert.equal(s.get('innodb_flush_method'), 'fsync');
    assert.equal(s.get('innodb_buffer_pool_dump_at_shutdown'), 'OFF');
    assert.equal(s.get('mysqlx'), 'OFF');
    assert.equal(s.has('mysqlx_port'), false);
    assert.equal(s.has('performance_schema'), false);
    assert.equal(mysqld({ profile: 'small', userConf: { max_connections: '50' } }).get('max_connections'), '50');
  });
  it('small MariaDB also turns off performance_schema and shrinks Aria and MyISAM caches', () => {
    const s = mysqld({ flavor: 'mariadb', profile: 'small' });
    assert.equal(s.get('performance_schema'), 'OFF');
    assert.equal(s.get('aria_pagecache_buffer_size'), '1M');
    assert.equal(s.get('key_buffer_size'), '64K');
    assert.equal(s.get('innodb_buffer_pool_size'), '134217728');
  });
});

describe('baseName', () => {
  it('strips loose_ and then one skip_/disable_/enable_', () => {
    assert.equal(baseName('loose_skip_log_bin'), 'log_bin');
    assert.equal(baseName('disable_log_bin'), 'log_bin');
    assert.equal(baseName('disabled_storage_engines'), 'disabled_storage_engines');
    assert.equal(baseName('innodb_numa_interleave'), 'innodb_numa_interleave');
  });
});

describe('parseQuantity', () => {
  const cases: [string | number, number][] = [
    ['512Mi', 512 * MiB],
    ['1Gi', 1024 * MiB],
    ['1G', 1_000_000_000],
    ['1000M', 1_000_000_000],
    ['128974848', 128974848],
    ['129e6', 129_000_000],
    ['129E6', 129_000_000],
    ['123k', 123_000],
    ['0.5Gi', 536870912],
    ['1.1G', 1_100_000_000],
    ['1.5Ki', 1536],
    ['.5Ki', 512],
    ['1e-1', 1],
    ['2P', 2e15],
    ['7Pi', 7 * 2 ** 50],
    ['0', 0],
    [128974848, 128974848],
    [1.5, 2],
  ];
  for (const [q, bytes] of cases) {
    it(`${JSON.stringify(q)} is ${bytes} bytes`, () => assert.equal(parseQuantity(q), bytes));
  }
  for (const bad of ['', ' 1Gi', '1Gi ', '1 Gi', '-1Gi', '1GB', '1gi', '512m', '1K', 'abc', '1.2.3', 'Gi', '1e', '9Ei', '1e1000']) {
    it(`rejects ${JSON.stringify(bad)}, naming it`, () => {
      assert.throws(() => parseQuantity(bad), (err: unknown) => invalid(err) && (err as Error).message.includes(JSON.stringify(bad)));
    });
  }
  it('hints at M for a milli suffix', () => {
    assert.throws(() => parseQuantity('512m'), /did you mean 'M'/);
  });
  it('rejects negative and non-finite numbers', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => parseQuantity(bad), invalid);
  });
});
