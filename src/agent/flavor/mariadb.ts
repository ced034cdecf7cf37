/**
 * MariaDB 10.11 adapter. Differences from MySQL that matter (measured, see docs/agent.md and docs/users.md):
 * - GTIDs are domain-server-seq positions; "executed" is gtid_binlog_state merged with gtid_slave_pos.
 * - read_only stops every account without READ_ONLY ADMIN; only moco-agent holds it (and SUPER and SET USER).
 * - semi-sync always waits for exactly one acknowledgement.
 * - there are no partial revokes and no super_read_only: the accounts' privileges are re-asserted by the agent
 *   (mariadb-accounts.ts).
 * - stopping both replication threads, re-pointing or restarting a replica discards its relay log, so what
 *   it received but did not apply is gone: received_reliable reports that.
 */
import type { Db, QueryOptions, Statement } from '../db.ts';
import { MocoError } from '../../shared/errors.ts';
import { gtidContains, parseGtid, formatGtid, mariadbMerge, mariadbDomainMaxText } from '../../gtid/index.ts';
import { reassertMariadbAccounts } from './mariadb-accounts.ts';
import type { DelayReading, FlavorAdapter, FlavorStatus, ReplicaTarget, ReplicaView } from './flavor.ts';
import {
  SEMI_SYNC_TIMEOUT_MS, SEMI_SYNC_VARIABLES, STATUS_VARIABLES, USER_DATA_STATEMENT, firstRow, hasUserDataFrom, num,
  namedMap, namedStatement, onOff, semiSyncFrom, str, replicatesFrom, assertReceivedApplied,
} from './common.ts';

/** MariaDB has no wait-for-replica count: it always waits for one acknowledgement. */
const SEMI_SYNC_SETTINGS = SEMI_SYNC_VARIABLES.filter((name) => name !== 'rpl_semi_sync_master_wait_for_slave_count');

/**
 * Everything readStatus reads, in one round trip. The semi-sync settings are read with @@ (built into MariaDB,
 * so always there): SHOW GLOBAL VARIABLES would walk every variable, about 0.4 ms of mysqld's CPU per read.
 */
const STATUS_READ: readonly Statement[] = [
  { sql: 'SELECT @@server_id AS server_id, @@read_only AS read_only, VERSION() AS version, ' +
    '@@gtid_binlog_state AS binlog_state, @@gtid_binlog_pos AS binlog_pos, @@gtid_slave_pos AS slave_pos, ' +
    '@@gtid_current_pos AS current_pos, ' +
    SEMI_SYNC_SETTINGS.map((name) => `@@${name} AS ${name}`).join(', ') },
  namedStatement('STATUS', STATUS_VARIABLES),
  { sql: 'SHOW SLAVE HOSTS' },
  { sql: 'SHOW SLAVE STATUS' },
  USER_DATA_STATEMENT,
];

function replicaView(r: Record<string, unknown>, status: Map<string, string>): ReplicaView {
  const ioState = str(r.Slave_IO_Running);
  const ioRunning = ioState === 'Yes' || ioState === 'Preparing' || ioState === 'Connecting';
  const sqlRunning = str(r.Slave_SQL_Running) === 'Yes';
  const received = str(r.Gtid_IO_Pos);
  return {
    sourceHost: str(r.Master_Host),
    sourcePort: num(r.Master_Port),
    sourceUser: str(r.Master_User),
    ioState,
    ioRunning,
    sqlRunning,
    ioThreadState: str(r.Slave_IO_State),
    sqlThreadState: str(r.Slave_SQL_Running_State),
    received,
    // Both threads stopped: the next START discards the relay log. Empty: nothing received since a restart.
    receivedReliable: received !== '' && (ioRunning || sqlRunning),
    lastIoErrno: num(r.Last_IO_Errno),
    lastIoError: str(r.Last_IO_Error),
    lastSqlErrno: num(r.Last_SQL_Errno),
    lastSqlError: str(r.Last_SQL_Error),
    secondsBehindSource: r.Seconds_Behind_Master === null || r.Seconds_Behind_Master === undefined ? null : num(r.Seconds_Behind_Master),
    heartbeatPeriodMs: Math.round(num(status.get('Slave_heartbeat_period')) * 1000),
    // Heartbeats counted, and the position read up to in the source's binlog (moves with every event).
    receivedMarker: `${status.get('Slave_received_heartbeats') ?? ''}/${str(r.Master_Log_File)}/${str(r.Read_Master_Log_Pos)}`,
  };
}

export const mariadbAdapter: FlavorAdapter = {
  flavor: 'mariadb',

  effectiveWaitCount(requested: number): number {
    return requested > 0 ? 1 : 0;
  },

  async readStatus(db: Db, options?: QueryOptions): Promise<FlavorStatus> {
    const [mainRows = [], statusRows = [], hosts = [], replicaRows = [], userData = []] = await db.readBatch(STATUS_READ, options);
    const main = firstRow(mainRows) ?? {};
    const vars = new Map(SEMI_SYNC_SETTINGS.map((name) => [name, str(main[name])]));
    const status = namedMap(statusRows);
    const hasUserData = hasUserDataFrom(userData);
    const binlogState = str(main.binlog_state);
    const slavePos = str(main.slave_pos);
    const executed = formatGtid(mariadbMerge(parseGtid('mariadb', binlogState), parseGtid('mariadb', slavePos)));
    const replicaRow = replicaRows[0];
    return {
      flavor: 'mariadb',
      version: str(main.version),
      serverId: num(main.server_id),
      serverUuid: '',
      gtidSourceId: String(num(main.server_id)),
      executed,
      purged: '',
      readOnly: onOff(main.read_only),
      writable: !onOff(main.read_only),
      semiSync: semiSyncFrom(vars, status, 1),
      connectedReplicas: hosts.map((h) => ({ serverId: num(h.Server_id), host: str(h.Host), port: num(h.Port) })),
      replica: replicaRow && str(replicaRow.Master_Host) !== '' ? replicaView(replicaRow, status) : null,
      hasUserData,
      uptimeSeconds: num(status.get('Uptime')),
      mariadb: { binlogState, binlogPos: str(main.binlog_pos), slavePos, currentPos: str(main.current_pos) },
    };
  },

  async configurePrimary(db: Db, waitCount: number, current: FlavorStatus): Promise<boolean> {
    const want = waitCount > 0;
    if (!want) {
      if (!current.semiSync.sourceEnabled) return false;
      await db.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
      return true;
    }
    if (current.semiSync.sourceEnabled && current.semiSync.timeoutMs === SEMI_SYNC_TIMEOUT_MS) return false;
    await db.query(`SET GLOBAL rpl_semi_sync_master_timeout = ${SEMI_SYNC_TIMEOUT_MS}`);
    await db.query('SET GLOBAL rpl_semi_sync_master_wait_no_slave = ON');
    await db.query('SET GLOBAL rpl_semi_sync_master_enabled = ON');
    return true;
  },

  async configureReplica(db: Db, t: ReplicaTarget, current: FlavorStatus): Promise<boolean> {
    if (replicatesFrom(current, t)) return false;
    await db.query('STOP SLAVE');
    // A former primary's gtid_slave_pos is stale; its own binlog says where it really is.
    await db.query('SET GLOBAL gtid_slave_pos = @@gtid_current_pos');
    await db.query(
      'CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, ' +
      'MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_HEARTBEAT_PERIOD = ?',
      [t.host, t.port, t.user, t.password, t.heartbeatPeriodMs / 1000],
    );
    await db.query('SET GLOBAL slave_net_timeout = ?', [t.netTimeoutSeconds]);
    await db.query(`SET GLOBAL rpl_semi_sync_slave_enabled = ${t.semiSync ? 'ON' : 'OFF'}`);
    await db.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
    await db.query('START SLAVE');
    return true;
  },

  async stopReplicaIO(db: Db, current: FlavorStatus): Promise<boolean> {
    if (!current.replica || !current.replica.ioRunning) return false;
    // STOP SLAVE IO_THREAD alone returns only once the receiver notices, and one blocked reading from a hung source
    // notices MariaDB's second signal, 2 s later (even when killed meanwhile): that wait would be the failover's
    // fence. Killed by id first, the receiver stops at once, as STOP SLAVE stops it (the applier runs on, the relay
    // log and Gtid_IO_Pos stay); STOP SLAVE then makes sure.
    const rows = await db.query<{ id: number }>("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE COMMAND = 'Slave_IO'");
    for (const r of rows) await db.query('KILL ?', [Number(r.id)]).catch(() => undefined);
    await db.query('STOP SLAVE IO_THREAD');
    return true;
  },

  async waitForExecuted(db: Db, gtid: string, timeoutMs: number, current: FlavorStatus, signal: AbortSignal): Promise<boolean> {
    const target = parseGtid('mariadb', gtid);
    if (gtidContains(parseGtid('mariadb', current.executed), target)) return true;
    if (current.replica?.sqlRunning) {
      // MASTER_GTID_WAIT follows the applier (gtid_slave_pos): -1 on timeout, 0 when reached.
      const rows = await db.query<{ r: number | null }>('SELECT MASTER_GTID_WAIT(?, ?) AS r',
        [mariadbDomainMaxText(target), timeoutMs / 1000], { signal });
      return rows[0]?.r === 0;
    }
    // Not replicating: the set can only become executed by local commits; the caller polls.
    return false;
  },

  async setReadOnly(db: Db, current: FlavorStatus): Promise<boolean> {
    if (current.readOnly) return false;
    await db.query('SET GLOBAL read_only = ON');
    return true;
  },

  async setWritable(db: Db, current: FlavorStatus): Promise<boolean> {
    let changed = false;
    if (current.replica) {
      assertReceivedApplied(current);
      await db.query('STOP SLAVE');
      await db.query('RESET SLAVE ALL');
      changed = true;
    }
    if (!current.writable) {
      await db.query('SET GLOBAL read_only = OFF');
      changed = true;
    }
    return changed;
  },

  async flushBinlogs(db: Db): Promise<string> {
    await db.query('FLUSH BINARY LOGS');
    const rows = await db.query('SHOW MASTER STATUS');
    const file = str(rows[0]?.File);
    if (file === '') throw new MocoError('FAILED_PRECONDITION', 'binary logging is off on this instance');
    return file;
  },

  async readDelay(_db: Db, current: FlavorStatus): Promise<DelayReading> {
    // Seconds_Behind_Master compares event timestamps with the replica's clock; with a one-second source
    // heartbeat it stays meaningful while the source is idle, so no warm-up period is needed.
    const r = current.replica;
    return { delaySeconds: r ? r.secondsBehindSource : null, receivedAnything: true };
  },

  reassertAccounts: reassertMariadbAccounts,
};
