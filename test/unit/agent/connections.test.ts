import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { connectionsToKill, killUserConnections, type ProcessRow } from '../../../src/agent/connections.ts';
import { FakeDb, mysqlError } from './fake-db.ts';

let nextId = 100;
/** One processlist row: a remote user connection unless overridden. */
function conn(USER: string, overrides: Partial<ProcessRow> = {}): ProcessRow {
  return { ID: nextId++, USER, HOST: '10.0.0.7:51234', COMMAND: 'Sleep', ...overrides };
}

describe('connectionsToKill', () => {
  const OWN = 7;
  const cases: { name: string; row: ProcessRow; killed: boolean }[] = [
    { name: 'an application user is killed', row: conn('app'), killed: true },
    { name: 'moco-readonly is killed (an end-user account)', row: conn('moco-readonly'), killed: true },
    { name: 'moco-writable is killed (an end-user account)', row: conn('moco-writable'), killed: true },
    { name: 'moco-admin is kept', row: conn('moco-admin'), killed: false },
    { name: 'moco-agent is kept', row: conn('moco-agent'), killed: false },
    { name: 'moco-repl is kept', row: conn('moco-repl', { COMMAND: 'Binlog Dump GTID' }), killed: false },
    { name: 'moco-clone-donor is kept', row: conn('moco-clone-donor'), killed: false },
    { name: 'moco-exporter is kept', row: conn('moco-exporter'), killed: false },
    { name: 'moco-backup is kept', row: conn('moco-backup'), killed: false },
    { name: "a connection from 'localhost' is kept", row: conn('app', { HOST: 'localhost' }), killed: false },
    { name: "a TCP connection from 127.0.0.1 is killed (not 'localhost')", row: conn('app', { HOST: '127.0.0.1:40000' }), killed: true },
    { name: "'system user' (replication threads) is kept", row: conn('system user', { HOST: '', COMMAND: 'Connect' }), killed: false },
    { name: 'event_scheduler is kept', row: conn('event_scheduler', { HOST: 'localhost', COMMAND: 'Daemon' }), killed: false },
    { name: 'a Daemon thread is kept', row: conn('', { HOST: '', COMMAND: 'Daemon' }), killed: false },
    { name: 'the own connection is kept', row: conn('app', { ID: OWN }), killed: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(connectionsToKill([c.row], OWN), c.killed ? [c.row.ID] : []));
  }

  it('keeps the processlist order and only the user connections', () => {
    const rows = [conn('app'), conn('moco-admin'), conn('moco-writable'), conn('system user')];
    assert.deepEqual(connectionsToKill(rows, OWN), [rows[0]?.ID, rows[2]?.ID]);
  });
});

describe('killUserConnections', () => {
  function server(rows: ProcessRow[]): FakeDb {
    return new FakeDb()
      .on('SELECT CONNECTION_ID()', [{ id: 5 }])
      .on('SELECT ID, USER, HOST, COMMAND FROM information_schema.PROCESSLIST', rows as unknown as Record<string, unknown>[]);
  }

  it('kills each user connection by id and counts them, never its own', async () => {
    const db = server([conn('moco-agent', { ID: 5 }), conn('app', { ID: 11 }), conn('moco-readonly', { ID: 12 }), conn('moco-admin', { ID: 13 })]);
    assert.equal(await killUserConnections(db), 2);
    assert.deepEqual(db.writes, [['KILL CONNECTION ?', [11]], ['KILL CONNECTION ?', [12]]]);
  });

  it('a connection that went meanwhile (1094) is not an error and not counted', async () => {
    const db = server([conn('app', { ID: 11 }), conn('app', { ID: 12 })])
      .on((/^KILL CONNECTION/), (params) => {
        if (params[0] === 11) throw mysqlError(1094, 'Unknown thread id: 11');
        return [];
      });
    assert.equal(await killUserConnections(db), 1);
    assert.equal(db.writes.length, 2, 'goes on after the vanished one');
  });

  it('a 1094 wrapped by the Db (as cause) is also ignored', async () => {
    const db = server([conn('app', { ID: 11 })])
      .on(/^KILL CONNECTION/, new Error('statement failed', { cause: mysqlError(1094, 'Unknown thread id') }));
    assert.equal(await killUserConnections(db), 0);
  });

  it('any other error fails the call', async () => {
    const db = server([conn('app', { ID: 11 })]).on(/^KILL CONNECTION/, mysqlError(1227, 'Access denied; you need the CONNECTION_ADMIN privilege'));
    await assert.rejects(killUserConnections(db), /CONNECTION_ADMIN/);
  });
});
