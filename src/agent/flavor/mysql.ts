/**
 * MySQL 8.4 adapter: the seed system's statements, with GTID sets in MySQL's own
 * format (tags included), super_read_only for fencing, wait-for-replica-count semi-sync, and the
 * performance_schema timestamps for the replication delay.
 */
import type { Db, QueryOptions, Statement } from '../db.ts';
import { MocoError } from '../../shared/errors.ts';
import { gtidContains, parseGtid } from '../../gtid/index.ts';
import type { AccountReassertResult, DelayReading, FlavorAdapter, FlavorStatus, ReplicaTarget, ReplicaView } from './flavor.ts';
import {
  SEMI_SYNC_TIMEOUT_MS, SEMI_SYNC_VARIABLES, STATUS_VARIABLES, USER_DATA_STATEMENT, firstRow, hasUserDataFrom, num,
  namedMap, namedStatement, onOff, oneLine, semiSyncFrom, str, replicatesFrom, assertReceivedApplied,
} from './common.ts';

/** Everything readStatus reads, in one round trip. */
const STATUS_READ: readonly Statement[] = [
  { sql: 'SELECT @@server_id AS server_id, @@server_uuid AS server_uuid, @@gtid_executed AS gtid_executed, ' +
    '@@gtid_purged AS gtid_purged, @@super_read_only AS super_read_only, @@read_only AS read_only, VERSION() AS version' },
  namedStatement('VARIABLES', SEMI_SYNC_VARIABLES),
  namedStatement('STATUS', STATUS_VARIABLES),
  { sql: 'SHOW REPLICAS' },
  { sql: 'SHOW REPLICA STATUS' },
  USER_DATA_STATEMENT,
  // No row when the instance is not a replica.
  { sql: 'SELECT HEARTBEAT_INTERVAL AS hb FROM performance_schema.replication_connection_configuration' },
];

/** Maps one SHOW REPLICA STATUS row (8.4 column names). */
export function mysqlReplicaView(r: Record<string, unknown>, heartbeatPeriodMs: number): ReplicaView {
  const ioState = str(r.Replica_IO_Running);
  const ioRunning = ioState === 'Yes' || ioState === 'Connecting';
  return {
    sourceHost: str(r.Source_Host),
    sourcePort: num(r.Source_Port),
    sourceUser: str(r.Source_User),
    ioState,
    ioRunning,
    sqlRunning: str(r.Replica_SQL_Running) === 'Yes',
    ioThreadState: str(r.Replica_IO_State),
    sqlThreadState: str(r.Replica_SQL_Running_State),
    received: oneLine(r.Retrieved_Gtid_Set),
    // relay_log_recovery=OFF keeps the relay log across restarts and threads stopping.
    receivedReliable: true,
    lastIoErrno: num(r.Last_IO_Errno),
    lastIoError: str(r.Last_IO_Error),
    lastSqlErrno: num(r.Last_SQL_Errno),
    lastSqlError: str(r.Last_SQL_Error),
    secondsBehindSource: r.Seconds_Behind_Source === null || r.Seconds_Behind_Source === undefined ? null : num(r.Seconds_Behind_Source),
    heartbeatPeriodMs,
  };
}

export const mysqlAdapter: FlavorAdapter = {
  flavor: 'mysql',

  effectiveWaitCount(requested: number): number {
    return requested;
  },

  async readStatus(db: Db, options?: QueryOptions): Promise<FlavorStatus> {
    const [mainRows = [], varRows = [], statusRows = [], hosts = [], replicaRows = [], userData = [], hb = []] = await db.readBatch(STATUS_READ, options);
    const vars = namedMap(varRows);
    const status = namedMap(statusRows);
    const hasUserData = hasUserDataFrom(userData);
    const main = firstRow(mainRows) ?? {};
    const heartbeatMs = Math.round(num(hb[0]?.hb) * 1000);
    const uuid = str(main.server_uuid);
    const replicaRow = replicaRows[0];
    return {
      flavor: 'mysql',
      version: str(main.version),
      serverId: num(main.server_id),
      serverUuid: uuid,
      gtidSourceId: uuid,
      executed: oneLine(main.gtid_executed),
      purged: oneLine(main.gtid_purged),
      readOnly: onOff(main.super_read_only),
      writable: !onOff(main.read_only) && !onOff(main.super_read_only),
      semiSync: semiSyncFrom(vars, status),
      connectedReplicas: hosts.map((h) => ({ serverId: num(h.Server_Id), host: str(h.Host), port: num(h.Port) })),
      replica: replicaRow && str(replicaRow.Source_Host) !== '' ? mysqlReplicaView(replicaRow, heartbeatMs) : null,
      hasUserData,
      uptimeSeconds: num(status.get('Uptime')),
      mariadb: null,
    };
  },

  async configurePrimary(db: Db, waitCount: number, current: FlavorStatus): Promise<boolean> {
    if (waitCount === 0) {
      if (!current.semiSync.sourceEnabled) return false;
      await db.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
      return true;
    }
    const s = current.semiSync;
    if (s.sourceEnabled && s.waitForReplicaCount === waitCount && s.timeoutMs === SEMI_SYNC_TIMEOUT_MS) return false;
    await db.query(`SET GLOBAL rpl_semi_sync_master_timeout = ${SEMI_SYNC_TIMEOUT_MS}`);
    await db.query('SET GLOBAL rpl_semi_sync_master_wait_for_slave_count = ?', [waitCount]);
    await db.query('SET GLOBAL rpl_semi_sync_master_enabled = ON');
    return true;
  },

  async configureReplica(db: Db, t: ReplicaTarget, current: FlavorStatus): Promise<boolean> {
    if (replicatesFrom(current, t)) return false;
    await db.query('STOP REPLICA');
    await db.query(
      'CHANGE REPLICATION SOURCE TO SOURCE_HOST = ?, SOURCE_PORT = ?, SOURCE_USER = ?, SOURCE_PASSWORD = ?, ' +
      'SOURCE_AUTO_POSITION = 1, GET_SOURCE_PUBLIC_KEY = 1, SOURCE_CONNECT_RETRY = 1, SOURCE_HEARTBEAT_PERIOD = ?',
      [t.host, t.port, t.user, t.password, t.heartbeatPeriodMs / 1000],
    );
    await db.query('SET GLOBAL replica_net_timeout = ?', [t.netTimeoutSeconds]);
    await db.query(`SET GLOBAL rpl_semi_sync_slave_enabled = ${t.semiSync ? 'ON' : 'OFF'}`);
    await db.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
    await db.query('START REPLICA');
    return true;
  },

  async stopReplicaIO(db: Db, current: FlavorStatus): Promise<boolean> {
    if (!current.replica || !current.replica.ioRunning) return false;
    await db.query('STOP REPLICA IO_THREAD');
    return true;
  },

  async waitForExecuted(db: Db, gtid: string, timeoutMs: number, current: FlavorStatus, signal: AbortSignal): Promise<boolean> {
    if (gtidContains(parseGtid('mysql', current.executed), parseGtid('mysql', gtid))) return true;
    // WAIT_FOR_EXECUTED_GTID_SET covers both the applier and local commits: 0 reached, 1 timed out.
    const rows = await db.query<{ r: number | null }>('SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r',
      [gtid, timeoutMs / 1000], { signal });
    return rows[0]?.r === 0;
  },

  async setReadOnly(db: Db, current: FlavorStatus): Promise<boolean> {
    if (current.readOnly) return false;
    await db.query('SET GLOBAL super_read_only = ON');
    return true;
  },

  async setWritable(db: Db, current: FlavorStatus): Promise<boolean> {
    let changed = false;
    if (current.replica) {
      assertReceivedApplied(current);
      await db.query('STOP REPLICA');
      // ALL: unlike the seed system, leave no stale source settings behind on the new primary.
      await db.query('RESET REPLICA ALL');
      changed = true;
    }
    if (!current.writable) {
      await db.query('SET GLOBAL read_only = OFF'); // also clears super_read_only
      changed = true;
    }
    return changed;
  },

  async flushBinlogs(db: Db): Promise<string> {
    await db.query('FLUSH BINARY LOGS');
    const rows = await db.query('SHOW BINARY LOG STATUS');
    const file = str(rows[0]?.File);
    if (file === '') throw new MocoError('FAILED_PRECONDITION', 'binary logging is off on this instance');
    return file;
  },

  async readDelay(db: Db, current: FlavorStatus): Promise<DelayReading> {
    if (!current.replica) return { delaySeconds: null, receivedAnything: false };
    const rows = await db.query<{ queued: string | null; applied: string | null }>(
      'SELECT ' +
      "(SELECT UNIX_TIMESTAMP(MAX(LAST_QUEUED_TRANSACTION_ORIGINAL_COMMIT_TIMESTAMP)) FROM performance_schema.replication_connection_status) AS queued, " +
      "(SELECT UNIX_TIMESTAMP(MAX(LAST_APPLIED_TRANSACTION_ORIGINAL_COMMIT_TIMESTAMP)) FROM performance_schema.replication_applier_status_by_worker) AS applied");
    return mysqlDelayFrom(rows[0]?.queued ?? null, rows[0]?.applied ?? null);
  },

  /**
   * Not on MySQL. Replicas run with super_read_only, which refuses account statements from everyone, and
   * lowering it even for a moment would let moco-admin write there (invariant 3). Nor is it needed as on
   * MariaDB: partial revokes keep moco-writable out of `mysql`, and moco-admin's SYSTEM_USER keeps accounts
   * without it from altering moco-admin (docs/users.md).
   */
  async reassertAccounts(): Promise<AccountReassertResult> {
    return { supported: false, changes: [], failures: [], definerObjects: [], mysqlWriters: [] };
  },
};

/** The seed's delay rule: queued − applied commit timestamps; nothing queued yet means no reading. */
export function mysqlDelayFrom(queued: string | number | null, applied: string | number | null): DelayReading {
  const q = num(queued);
  if (q <= 0) return { delaySeconds: null, receivedAnything: false };
  const a = num(applied);
  return { delaySeconds: Math.max(0, q - a), receivedAnything: true };
}
