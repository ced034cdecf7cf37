import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { mysqlAdapter, mysqlDelayFrom, mysqlReplicaView } from '../../../src/agent/flavor/mysql.ts';
import { hasCode } from '../../../src/shared/errors.ts';
import { FakeDb, namedRows } from './fake-db.ts';
import { replica, semiSyncSource, status, target } from './flavor-builders.ts';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '2174b383-5441-11e8-b90a-c80aa9429562';
const signal = new AbortController().signal;
const st = (o: Parameters<typeof status>[1] = {}) => status('mysql', o);

/** A `SHOW REPLICA STATUS` row as MySQL 8.4 sends it (only the columns that matter, 8.4 names). */
function replicaRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Replica_IO_State: 'Waiting for source to send event', Source_Host: 'db-0', Source_User: 'moco-repl', Source_Port: 3306,
    Replica_IO_Running: 'Yes', Replica_SQL_Running: 'Yes', Last_Errno: 0, Last_Error: '',
    Last_IO_Errno: 0, Last_IO_Error: '', Last_SQL_Errno: 0, Last_SQL_Error: '', Seconds_Behind_Source: 0,
    Replica_SQL_Running_State: 'Replica has read all relay log; waiting for more updates',
    Retrieved_Gtid_Set: `${A}:1-5,\n${B}:1-3`, Executed_Gtid_Set: `${A}:1-5,\n${B}:1-3`, Auto_Position: 1,
    ...overrides,
  };
}

/** A fake mysqld 8.4 answering every read of readStatus. */
function mysqld(o: { replicaRows?: Record<string, unknown>[]; replicas?: Record<string, unknown>[]; superReadOnly?: number } = {}): FakeDb {
  return new FakeDb()
    .on('SELECT @@server_id', [{
      server_id: 2, server_uuid: B, gtid_executed: `${A}:1-5,\n${B}:1-3:tag1:1-2`, gtid_purged: `${A}:1-2`,
      super_read_only: o.superReadOnly ?? 1, version: '8.4.4',
    }])
    .on('SHOW GLOBAL VARIABLES', namedRows({
      rpl_semi_sync_master_enabled: 'ON', rpl_semi_sync_slave_enabled: 'OFF',
      rpl_semi_sync_master_wait_for_slave_count: '2', rpl_semi_sync_master_timeout: '4294967295',
    }))
    .on('SHOW GLOBAL STATUS', namedRows({
      Rpl_semi_sync_master_wait_sessions: '3', Rpl_semi_sync_master_clients: '2', Rpl_semi_sync_master_status: 'ON',
      Rpl_semi_sync_slave_status: 'OFF', Uptime: '4242',
    }))
    .on('SHOW REPLICAS', o.replicas ?? [])
    .on('SHOW REPLICA STATUS', o.replicaRows ?? [])
    // performance_schema has a row per configured channel: none on a primary.
    .on('SELECT HEARTBEAT_INTERVAL', (o.replicaRows ?? []).length > 0 ? [{ hb: 1.5 }] : [])
    .on(/information_schema\.SCHEMATA/, [{ n: 1 }]);
}

describe('mysql readStatus', () => {
  it('a primary: one-line GTID sets, semi-sync, connected replicas, no replica', async () => {
    const db = mysqld({
      superReadOnly: 0,
      replicas: [{ Server_Id: 3, Host: 'db-1', Port: 3306, Source_Id: 2, Replica_UUID: A }],
    });
    const s = await mysqlAdapter.readStatus(db, { timeoutMs: 700 });
    assert.equal(s.executed, `${A}:1-5,${B}:1-3:tag1:1-2`);
    assert.equal(s.purged, `${A}:1-2`);
    assert.equal(s.serverUuid, B);
    assert.equal(s.gtidSourceId, B);
    assert.equal(s.serverId, 2);
    assert.equal(s.readOnly, false);
    assert.deepEqual(s.semiSync, {
      sourceEnabled: true, replicaEnabled: false, waitForReplicaCount: 2, waitSessions: 3, sourceClients: 2,
      sourceActive: true, replicaActive: false, timeoutMs: '4294967295',
    });
    assert.deepEqual(s.connectedReplicas, [{ serverId: 3, host: 'db-1', port: 3306 }]);
    assert.equal(s.replica, null);
    assert.equal(s.uptimeSeconds, 4242);
    assert.equal(s.hasUserData, true);
    assert.equal(s.mariadb, null);
    assert.ok(db.calls.every((c) => c.options?.timeoutMs === 700), 'every read carries the status timeout');
    assert.equal(db.batches.length, 1, 'one round trip');
    assert.equal(db.batches[0]?.length, db.calls.length, 'nothing read outside the batch');
  });

  it('a replica: the SHOW REPLICA STATUS row and the heartbeat', async () => {
    const s = await mysqlAdapter.readStatus(mysqld({ replicaRows: [replicaRow({ Retrieved_Gtid_Set: `${A}:1-7,\n${A}:tag1:1-3` })] }));
    assert.equal(s.readOnly, true);
    assert.equal(s.replica?.sourceHost, 'db-0');
    assert.equal(s.replica?.received, `${A}:1-7,${A}:tag1:1-3`);
    assert.equal(s.replica?.heartbeatPeriodMs, 1500);
  });

  it('a reset replica (empty Source_Host) is not replicating', async () => {
    const s = await mysqlAdapter.readStatus(mysqld({ replicaRows: [replicaRow({ Source_Host: '' })] }));
    assert.equal(s.replica, null);
  });
});

describe('mysqlReplicaView', () => {
  const cases: { name: string; row: Record<string, unknown>; want: Partial<ReturnType<typeof mysqlReplicaView>> }[] = [
    {
      name: 'both threads running',
      row: replicaRow(),
      want: {
        sourceHost: 'db-0', sourcePort: 3306, sourceUser: 'moco-repl', ioState: 'Yes', ioRunning: true, sqlRunning: true,
        ioThreadState: 'Waiting for source to send event', received: `${A}:1-5,${B}:1-3`, receivedReliable: true,
        secondsBehindSource: 0, heartbeatPeriodMs: 1000,
      },
    },
    { name: 'IO connecting counts as running', row: replicaRow({ Replica_IO_Running: 'Connecting' }), want: { ioState: 'Connecting', ioRunning: true } },
    { name: 'IO stopped', row: replicaRow({ Replica_IO_Running: 'No' }), want: { ioState: 'No', ioRunning: false } },
    { name: 'SQL stopped', row: replicaRow({ Replica_SQL_Running: 'No' }), want: { sqlRunning: false } },
    { name: 'Seconds_Behind_Source NULL', row: replicaRow({ Seconds_Behind_Source: null }), want: { secondsBehindSource: null } },
    { name: 'Seconds_Behind_Source 12', row: replicaRow({ Seconds_Behind_Source: 12 }), want: { secondsBehindSource: 12 } },
    { name: 'tagged GTIDs kept', row: replicaRow({ Retrieved_Gtid_Set: `${A}:tag1:1-3` }), want: { received: `${A}:tag1:1-3` } },
    { name: 'nothing received', row: replicaRow({ Retrieved_Gtid_Set: '' }), want: { received: '' } },
    {
      name: 'IO error',
      row: replicaRow({ Replica_IO_Running: 'Connecting', Last_IO_Errno: 2003, Last_IO_Error: "error connecting to source 'moco-repl@db-0:3306'" }),
      want: { lastIoErrno: 2003, lastIoError: "error connecting to source 'moco-repl@db-0:3306'" },
    },
    {
      name: 'SQL error',
      row: replicaRow({ Replica_SQL_Running: 'No', Last_SQL_Errno: 1062, Last_SQL_Error: 'Duplicate entry' }),
      want: { sqlRunning: false, lastSqlErrno: 1062, lastSqlError: 'Duplicate entry' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = mysqlReplicaView(c.row, 1000);
      for (const [k, want] of Object.entries(c.want)) assert.deepEqual(v[k as keyof typeof v], want, k);
    });
  }
});

describe('mysqlDelayFrom', () => {
  const cases: { name: string; queued: string | number | null; applied: string | number | null; want: ReturnType<typeof mysqlDelayFrom> }[] = [
    { name: 'nothing queued (NULL)', queued: null, applied: null, want: { delaySeconds: null, receivedAnything: false } },
    { name: 'nothing queued (zero timestamp)', queued: '0.000000', applied: '0.000000', want: { delaySeconds: null, receivedAnything: false } },
    { name: 'caught up', queued: '1700000000.250000', applied: '1700000000.250000', want: { delaySeconds: 0, receivedAnything: true } },
    { name: 'ten seconds behind', queued: '1700000010.5', applied: '1700000000.5', want: { delaySeconds: 10, receivedAnything: true } },
    { name: 'queued but nothing applied yet', queued: 100, applied: null, want: { delaySeconds: 100, receivedAnything: true } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(mysqlDelayFrom(c.queued, c.applied), c.want));
});

describe('mysql configurePrimary', () => {
  it('count 2 after semi-sync off: timeout, count, enable', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.configurePrimary(db, 2, st()), true);
    assert.deepEqual(db.writes, [
      ['SET GLOBAL rpl_semi_sync_master_timeout = 4294967295', []],
      ['SET GLOBAL rpl_semi_sync_master_wait_for_slave_count = ?', [2]],
      ['SET GLOBAL rpl_semi_sync_master_enabled = ON', []],
    ]);
  });
  it('already configured: no statements', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.configurePrimary(db, 2, st({ semiSync: semiSyncSource(2) })), false);
    assert.deepEqual(db.calls, []);
  });
  it('another count: reconfigured', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.configurePrimary(db, 1, st({ semiSync: semiSyncSource(2) })), true);
    assert.deepEqual(db.writes[1], ['SET GLOBAL rpl_semi_sync_master_wait_for_slave_count = ?', [1]]);
  });
  it('count 0 disables semi-sync', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.configurePrimary(db, 0, st({ semiSync: semiSyncSource(2) })), true);
    assert.deepEqual(db.statements, ['SET GLOBAL rpl_semi_sync_master_enabled = OFF']);
  });
  it('count 0 when already off: no statements', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.configurePrimary(db, 0, st()), false);
    assert.deepEqual(db.calls, []);
  });
});

describe('mysql configureReplica', () => {
  const replicating = st({ replica: replica(), semiSync: { replicaEnabled: true } });

  it('a fresh instance: stop, change source, timeouts, semi-sync, start', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.configureReplica(db, target({ heartbeatPeriodMs: 500 }), st()), true);
    assert.equal(db.writes.length, 6);
    assert.deepEqual(db.writes[0], ['STOP REPLICA', []]);
    const [change, params] = db.writes[1] ?? ['', []];
    assert.match(change, /^CHANGE REPLICATION SOURCE TO SOURCE_HOST = \?, SOURCE_PORT = \?, SOURCE_USER = \?, SOURCE_PASSWORD = \?, /);
    assert.match(change, /SOURCE_AUTO_POSITION = 1, GET_SOURCE_PUBLIC_KEY = 1, /);
    assert.match(change, /SOURCE_HEARTBEAT_PERIOD = \?$/);
    assert.deepEqual(params, ['db-0', 3306, 'moco-repl', "pa'ss", 0.5]);
    assert.ok(!change.includes("pa'ss"), 'the password travels as a parameter');
    assert.deepEqual(db.writes.slice(2), [
      ['SET GLOBAL replica_net_timeout = ?', [4]],
      ['SET GLOBAL rpl_semi_sync_slave_enabled = ON', []],
      ['SET GLOBAL rpl_semi_sync_master_enabled = OFF', []],
      ['START REPLICA', []],
    ]);
  });

  it('without semi-sync the replica flag is OFF', async () => {
    const db = new FakeDb();
    await mysqlAdapter.configureReplica(db, target({ semiSync: false }), st());
    assert.ok(db.statements.includes('SET GLOBAL rpl_semi_sync_slave_enabled = OFF'));
  });

  it('already replicating from the same source with the same settings: no statements', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.configureReplica(db, target(), replicating), false);
    assert.deepEqual(db.calls, []);
  });

  const changes: { name: string; current: ReturnType<typeof st>; t: ReturnType<typeof target> }[] = [
    { name: 'another host', current: replicating, t: target({ host: 'db-2' }) },
    { name: 'another port', current: replicating, t: target({ port: 3307 }) },
    { name: 'another user', current: replicating, t: target({ user: 'other' }) },
    { name: 'semi-sync flag differs', current: replicating, t: target({ semiSync: false }) },
    { name: 'heartbeat differs', current: replicating, t: target({ heartbeatPeriodMs: 250 }) },
    { name: 'IO thread stopped', current: st({ replica: replica({ ioState: 'No', ioRunning: false }), semiSync: { replicaEnabled: true } }), t: target() },
    { name: 'SQL thread stopped', current: st({ replica: replica({ sqlRunning: false }), semiSync: { replicaEnabled: true } }), t: target() },
    { name: 'still a semi-sync source (former primary)', current: st({ replica: replica(), semiSync: { replicaEnabled: true, sourceEnabled: true } }), t: target() },
  ];
  for (const c of changes) {
    it(`reconfigures when ${c.name}`, async () => {
      const db = new FakeDb();
      assert.equal(await mysqlAdapter.configureReplica(db, c.t, c.current), true);
      assert.equal(db.statements[0], 'STOP REPLICA');
      assert.equal(db.statements.at(-1), 'START REPLICA');
    });
  }
});

describe('mysql stopReplicaIO', () => {
  const cases = [
    { name: 'IO running', current: st({ replica: replica() }), want: ['STOP REPLICA IO_THREAD'] },
    { name: 'IO connecting', current: st({ replica: replica({ ioState: 'Connecting' }) }), want: ['STOP REPLICA IO_THREAD'] },
    { name: 'IO already stopped', current: st({ replica: replica({ ioState: 'No', ioRunning: false }) }), want: [] },
    { name: 'not a replica', current: st(), want: [] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const db = new FakeDb();
      assert.equal(await mysqlAdapter.stopReplicaIO(db, c.current), c.want.length > 0);
      assert.deepEqual(db.statements, c.want);
    });
  }
});

describe('mysql setReadOnly / setWritable', () => {
  it('setReadOnly uses super_read_only', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.setReadOnly(db, st({ readOnly: false })), true);
    assert.deepEqual(db.statements, ['SET GLOBAL super_read_only = ON']);
  });
  it('setReadOnly when read-only: no statements', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.setReadOnly(db, st()), false);
    assert.deepEqual(db.calls, []);
  });
  it('setWritable on a caught-up replica: stop, reset all, read_only off', async () => {
    const db = new FakeDb();
    const current = st({ executed: `${A}:1-10,${B}:1-3`, replica: replica({ received: `${A}:1-10` }) });
    assert.equal(await mysqlAdapter.setWritable(db, current), true);
    assert.deepEqual(db.statements, ['STOP REPLICA', 'RESET REPLICA ALL', 'SET GLOBAL read_only = OFF']);
  });
  const refusals = [
    { name: 'received transactions not executed', executed: `${A}:1-5`, received: `${A}:1-7` },
    { name: 'received tagged transactions not executed', executed: `${A}:1-5`, received: `${A}:1-5:tag1:1-3` },
  ];
  for (const c of refusals) {
    it(`setWritable refuses when ${c.name}`, async () => {
      const db = new FakeDb();
      await assert.rejects(mysqlAdapter.setWritable(db, st({ executed: c.executed, replica: replica({ received: c.received }) })),
        (err: unknown) => hasCode(err, 'FAILED_PRECONDITION'));
      assert.deepEqual(db.calls, []);
    });
  }
  it('setWritable turns read_only off when only super_read_only was cleared by hand', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.setWritable(db, st({ readOnly: false, writable: false })), true);
    assert.deepEqual(db.statements, ['SET GLOBAL read_only = OFF']);
  });
  it('setWritable on a writable primary: no statements', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.setWritable(db, st({ readOnly: false })), false);
    assert.deepEqual(db.calls, []);
  });
});

describe('mysql waitForExecuted', () => {
  const gtid = `${A}:1-7`;
  const cases = [
    { name: 'reached (0)', r: 0, want: true },
    { name: 'timed out (1)', r: 1, want: false },
    { name: 'NULL (bad argument)', r: null, want: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const db = new FakeDb().on('SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)', [{ r: c.r }]);
      assert.equal(await mysqlAdapter.waitForExecuted(db, gtid, 1500, st({ executed: `${A}:1-5` }), signal), c.want);
      assert.deepEqual(db.calls.map((q) => q.params), [[gtid, 1.5]]);
      assert.equal(db.calls[0]?.options?.signal, signal, 'the wait is cancellable');
    });
  }
  it('already executed: true with no statements', async () => {
    const db = new FakeDb();
    assert.equal(await mysqlAdapter.waitForExecuted(db, gtid, 1000, st({ executed: `${A}:1-9,${B}:1` }), signal), true);
    assert.deepEqual(db.calls, []);
  });
});

describe('mysql flushBinlogs', () => {
  it('flushes and returns the new binary log from SHOW BINARY LOG STATUS', async () => {
    const db = new FakeDb().on('SHOW BINARY LOG STATUS', [{ File: 'binlog.000008', Position: 158, Executed_Gtid_Set: '' }]);
    assert.equal(await mysqlAdapter.flushBinlogs(db), 'binlog.000008');
    assert.deepEqual(db.statements, ['FLUSH BINARY LOGS', 'SHOW BINARY LOG STATUS']);
  });
  it('binary logging off: FAILED_PRECONDITION', async () => {
    const db = new FakeDb().on('SHOW BINARY LOG STATUS', []);
    await assert.rejects(mysqlAdapter.flushBinlogs(db), (err: unknown) => hasCode(err, 'FAILED_PRECONDITION'));
  });
});
