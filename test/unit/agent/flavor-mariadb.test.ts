import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { mariadbAdapter } from '../../../src/agent/flavor/mariadb.ts';
import { hasCode } from '../../../src/shared/errors.ts';
import { FakeDb, namedRows } from './fake-db.ts';
import { replica, semiSyncSource, status, target } from './flavor-builders.ts';

const signal = new AbortController().signal;
const st = (o: Parameters<typeof status>[1] = {}) => status('mariadb', o);

/** A `SHOW SLAVE STATUS` row as MariaDB 10.11 sends it (the columns that matter). */
function slaveRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Slave_IO_State: 'Waiting for master to send event', Master_Host: 'db-0', Master_User: 'moco-repl', Master_Port: 3306,
    Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Last_IO_Errno: 0, Last_IO_Error: '', Last_SQL_Errno: 0,
    Last_SQL_Error: '', Seconds_Behind_Master: 0, Using_Gtid: 'Slave_Pos', Gtid_IO_Pos: '0-1-12',
    Slave_SQL_Running_State: 'Slave has read all relay log; waiting for more updates',
    Master_Log_File: 'mysql-bin.000003', Read_Master_Log_Pos: 4711,
    ...overrides,
  };
}

function mariadbd(o: { slaveRows?: Record<string, unknown>[]; binlogState?: string; slavePos?: string } = {}): FakeDb {
  return new FakeDb()
    .on('SELECT @@server_id', [{
      server_id: 2, read_only: 1, version: '10.11.19-MariaDB-0+deb12u1-log',
      binlog_state: o.binlogState ?? '0-2-5', binlog_pos: '0-2-5', slave_pos: o.slavePos ?? '0-1-12,1-3-4', current_pos: '0-2-5,1-3-4',
      // @@ reads of boolean settings give 0/1 numbers.
      rpl_semi_sync_master_enabled: 0, rpl_semi_sync_slave_enabled: 1, rpl_semi_sync_master_timeout: 4294967295,
    }])
    .on('SHOW GLOBAL STATUS', namedRows({ Rpl_semi_sync_slave_status: 'ON', Uptime: '77', Slave_heartbeat_period: '1.000', Slave_received_heartbeats: '42' }))
    .on('SHOW SLAVE HOSTS', [{ Server_id: 3, Host: 'db-1', Port: 3306, Master_id: 2 }])
    .on('SHOW SLAVE STATUS', o.slaveRows ?? [slaveRow()])
    .on(/information_schema\.SCHEMATA/, [{ n: 0 }]);
}

describe('mariadb effectiveWaitCount', () => {
  const cases = [
    { name: '2 becomes 1 (MariaDB waits for one acknowledgement)', requested: 2, want: 1 },
    { name: '1 stays 1', requested: 1, want: 1 },
    { name: '0 stays 0 (semi-sync off)', requested: 0, want: 0 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(mariadbAdapter.effectiveWaitCount(c.requested), c.want));
});

describe('mariadb readStatus', () => {
  it('merges gtid_binlog_state and gtid_slave_pos into executed', async () => {
    const s = await mariadbAdapter.readStatus(mariadbd({ binlogState: '0-1-5,0-2-5', slavePos: '0-1-12,1-3-4' }));
    assert.deepEqual(s.executed.split(',').sort(), ['0-1-12', '0-2-5', '1-3-4']);
    assert.deepEqual(s.mariadb, { binlogState: '0-1-5,0-2-5', binlogPos: '0-2-5', slavePos: '0-1-12,1-3-4', currentPos: '0-2-5,1-3-4' });
  });

  it('a replica: identity, read_only, semi-sync fixed at one, hosts and the slave row', async () => {
    const db = mariadbd();
    const s = await mariadbAdapter.readStatus(db, { timeoutMs: 500 });
    assert.equal(s.flavor, 'mariadb');
    assert.equal(s.serverUuid, '');
    assert.equal(s.gtidSourceId, '2');
    assert.equal(s.readOnly, true);
    assert.equal(s.purged, '');
    assert.equal(s.semiSync.waitForReplicaCount, 1);
    assert.equal(s.semiSync.replicaEnabled, true);
    assert.equal(s.semiSync.replicaActive, true);
    assert.equal(s.semiSync.sourceEnabled, false);
    assert.equal(s.semiSync.timeoutMs, '4294967295', 'the timeout compares with what configurePrimary sets');
    assert.deepEqual(s.connectedReplicas, [{ serverId: 3, host: 'db-1', port: 3306 }]);
    assert.equal(s.uptimeSeconds, 77);
    assert.equal(s.hasUserData, false);
    assert.deepEqual(s.replica, {
      sourceHost: 'db-0', sourcePort: 3306, sourceUser: 'moco-repl', ioState: 'Yes', ioRunning: true, sqlRunning: true,
      ioThreadState: 'Waiting for master to send event',
      sqlThreadState: 'Slave has read all relay log; waiting for more updates',
      received: '0-1-12', receivedReliable: true, lastIoErrno: 0, lastIoError: '', lastSqlErrno: 0, lastSqlError: '',
      secondsBehindSource: 0, heartbeatPeriodMs: 1000,
      // Moves with every heartbeat (the count) and every event (the read position).
      receivedMarker: '42/mysql-bin.000003/4711',
    });
    assert.ok(db.calls.every((c) => c.options?.timeoutMs === 500), 'every read carries the status timeout');
    assert.equal(db.batches.length, 1, 'one round trip');
    assert.equal(db.batches[0]?.length, db.calls.length, 'nothing read outside the batch');
  });

  it('a reset replica (empty Master_Host) is not replicating', async () => {
    const s = await mariadbAdapter.readStatus(mariadbd({ slaveRows: [slaveRow({ Master_Host: '' })] }));
    assert.equal(s.replica, null);
  });

  const reliability = [
    { name: 'both threads running', row: {}, want: true },
    { name: 'only the IO thread stopped', row: { Slave_IO_Running: 'No' }, want: true },
    { name: 'only the SQL thread stopped', row: { Slave_SQL_Running: 'No' }, want: true },
    { name: 'both threads stopped (the relay log goes at the next start)', row: { Slave_IO_Running: 'No', Slave_SQL_Running: 'No' }, want: false },
    { name: 'Gtid_IO_Pos empty (nothing received since a restart)', row: { Gtid_IO_Pos: '' }, want: false },
  ];
  for (const c of reliability) {
    it(`receivedReliable: ${c.name}`, async () => {
      const s = await mariadbAdapter.readStatus(mariadbd({ slaveRows: [slaveRow(c.row)] }));
      assert.equal(s.replica?.receivedReliable, c.want);
    });
  }

  it('Seconds_Behind_Master NULL reads as unknown', async () => {
    const s = await mariadbAdapter.readStatus(mariadbd({ slaveRows: [slaveRow({ Seconds_Behind_Master: null, Slave_IO_Running: 'Preparing' })] }));
    assert.equal(s.replica?.secondsBehindSource, null);
    assert.equal(s.replica?.ioRunning, true);
  });
});

describe('mariadb configurePrimary', () => {
  it('semi-sync off → on: timeout, wait_no_slave, enable', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.configurePrimary(db, 1, st()), true);
    assert.deepEqual(db.statements, [
      'SET GLOBAL rpl_semi_sync_master_timeout = 4294967295',
      'SET GLOBAL rpl_semi_sync_master_wait_no_slave = ON',
      'SET GLOBAL rpl_semi_sync_master_enabled = ON',
    ]);
  });
  it('already a semi-sync source: no statements', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.configurePrimary(db, 1, st({ semiSync: semiSyncSource(1) })), false);
    assert.deepEqual(db.calls, []);
  });
  it('0 disables semi-sync', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.configurePrimary(db, 0, st({ semiSync: semiSyncSource(1) })), true);
    assert.deepEqual(db.statements, ['SET GLOBAL rpl_semi_sync_master_enabled = OFF']);
  });
});

describe('mariadb configureReplica', () => {
  it('a fresh instance: stop, position from its own binlog, change master, timeouts, semi-sync, start', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.configureReplica(db, target({ semiSync: true }), st()), true);
    assert.equal(db.writes.length, 7);
    assert.deepEqual(db.writes[0], ['STOP SLAVE', []]);
    assert.deepEqual(db.writes[1], ['SET GLOBAL gtid_slave_pos = @@gtid_current_pos', []]);
    const [change, params] = db.writes[2] ?? ['', []];
    assert.match(change, /^CHANGE MASTER TO MASTER_HOST = \?, MASTER_PORT = \?, MASTER_USER = \?, MASTER_PASSWORD = \?, /);
    assert.match(change, /MASTER_USE_GTID = slave_pos/);
    assert.match(change, /MASTER_HEARTBEAT_PERIOD = \?$/);
    assert.deepEqual(params, ['db-0', 3306, 'moco-repl', "pa'ss", 1]);
    assert.deepEqual(db.writes.slice(3), [
      ['SET GLOBAL slave_net_timeout = ?', [4]],
      ['SET GLOBAL rpl_semi_sync_slave_enabled = ON', []],
      ['SET GLOBAL rpl_semi_sync_master_enabled = OFF', []],
      ['START SLAVE', []],
    ]);
  });
  it('already replicating from the same source with the same settings: no statements', async () => {
    const db = new FakeDb();
    const current = st({ replica: replica(), semiSync: { replicaEnabled: true } });
    assert.equal(await mariadbAdapter.configureReplica(db, target(), current), false);
    assert.deepEqual(db.calls, []);
  });
  it('another source: reconfigured', async () => {
    const db = new FakeDb();
    const current = st({ replica: replica(), semiSync: { replicaEnabled: true } });
    assert.equal(await mariadbAdapter.configureReplica(db, target({ host: 'db-2' }), current), true);
    assert.equal(db.writes[2]?.[1][0], 'db-2');
  });
});

describe('mariadb stopReplicaIO / setReadOnly', () => {
  it('stops the IO thread when it runs: killed by id first (a receiver blocked on a hung source), then STOP SLAVE', async () => {
    const db = new FakeDb().on(/PROCESSLIST/, [{ id: 9 }]);
    assert.equal(await mariadbAdapter.stopReplicaIO(db, st({ replica: replica() })), true);
    assert.deepEqual(db.calls.map((c) => [c.sql.split(' ').slice(0, 2).join(' '), c.params]), [
      ['SELECT ID', []], ['KILL ?', [9]], ['STOP SLAVE', []],
    ]);
  });
  it('IO thread stopped: no statements', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.stopReplicaIO(db, st({ replica: replica({ ioRunning: false, ioState: 'No' }) })), false);
    assert.deepEqual(db.calls, []);
  });
  it('setReadOnly uses read_only', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.setReadOnly(db, st({ readOnly: false })), true);
    assert.deepEqual(db.statements, ['SET GLOBAL read_only = ON']);
  });
});

describe('mariadb setWritable', () => {
  it('caught up: stop, reset all, read_only off', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.setWritable(db, st({ executed: '0-1-12', replica: replica({ received: '0-1-12' }) })), true);
    assert.deepEqual(db.statements, ['STOP SLAVE', 'RESET SLAVE ALL', 'SET GLOBAL read_only = OFF']);
  });
  it('refuses when Gtid_IO_Pos is ahead of executed, with no statements', async () => {
    const db = new FakeDb();
    await assert.rejects(mariadbAdapter.setWritable(db, st({ executed: '0-1-10', replica: replica({ received: '0-1-12' }) })),
      (err: unknown) => hasCode(err, 'FAILED_PRECONDITION'));
    assert.deepEqual(db.calls, []);
  });
  it('an unreliable received position (already lost) does not block', async () => {
    const db = new FakeDb();
    const current = st({ executed: '0-1-10', replica: replica({ received: '0-1-12', receivedReliable: false, ioRunning: false, sqlRunning: false }) });
    assert.equal(await mariadbAdapter.setWritable(db, current), true);
    assert.equal(db.statements[0], 'STOP SLAVE');
  });
  it('a writable primary: no statements', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.setWritable(db, st({ readOnly: false })), false);
    assert.deepEqual(db.calls, []);
  });
});

describe('mariadb waitForExecuted', () => {
  const cases = [
    { name: 'reached (0)', r: 0, want: true },
    { name: 'timed out (-1)', r: -1, want: false },
  ];
  for (const c of cases) {
    it(`SQL thread running, ${c.name}: MASTER_GTID_WAIT with the per-domain position`, async () => {
      const db = new FakeDb().on('SELECT MASTER_GTID_WAIT(?, ?)', [{ r: c.r }]);
      const current = st({ executed: '0-1-5', replica: replica() });
      assert.equal(await mariadbAdapter.waitForExecuted(db, '0-1-8,0-2-9', 2000, current, signal), c.want);
      assert.deepEqual(db.calls.map((q) => q.params), [['0-2-9', 2]]);
      assert.equal(db.calls[0]?.options?.signal, signal);
    });
  }
  it('SQL thread stopped: false without statements (the caller polls)', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.waitForExecuted(db, '0-1-8', 1000, st({ executed: '0-1-5', replica: replica({ sqlRunning: false }) }), signal), false);
    assert.deepEqual(db.calls, []);
  });
  it('not a replica: false without statements', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.waitForExecuted(db, '0-1-8', 1000, st({ executed: '0-1-5' }), signal), false);
    assert.deepEqual(db.calls, []);
  });
  it('already executed: true without statements', async () => {
    const db = new FakeDb();
    assert.equal(await mariadbAdapter.waitForExecuted(db, '0-1-8', 1000, st({ executed: '0-1-9', replica: replica() }), signal), true);
    assert.deepEqual(db.calls, []);
  });
});

describe('mariadb flushBinlogs', () => {
  it('flushes and returns the new binary log from SHOW MASTER STATUS', async () => {
    const db = new FakeDb().on('SHOW MASTER STATUS', [{ File: 'mariadb-bin.000004', Position: 385 }]);
    assert.equal(await mariadbAdapter.flushBinlogs(db), 'mariadb-bin.000004');
    assert.deepEqual(db.statements, ['FLUSH BINARY LOGS', 'SHOW MASTER STATUS']);
  });
});
