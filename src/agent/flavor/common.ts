/** Statements and row parsing shared by both flavors. */
import type { Row, Statement } from '../db.ts';
import { failedPrecondition } from '../../shared/errors.ts';
import { gtidContains, parseGtid } from '../../gtid/index.ts';
import type { FlavorStatus, ReplicaTarget } from './flavor.ts';

/** Schemas every instance has; anything else is user data. */
export const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

export const SEMI_SYNC_VARIABLES = [
  'rpl_semi_sync_master_enabled', 'rpl_semi_sync_slave_enabled',
  'rpl_semi_sync_master_wait_for_slave_count', 'rpl_semi_sync_master_timeout',
];

export const STATUS_VARIABLES = [
  'Rpl_semi_sync_master_wait_sessions', 'Rpl_semi_sync_master_clients', 'Rpl_semi_sync_master_status',
  'Rpl_semi_sync_slave_status', 'Uptime', 'Slave_heartbeat_period', 'Slave_received_heartbeats',
];

/** Semi-sync timeout: as long as the server allows (about 49 days), so it never falls back to async. */
export const SEMI_SYNC_TIMEOUT_MS = '4294967295';

/** SHOW GLOBAL VARIABLES / STATUS for the given names; {@link namedMap} reads its rows. */
export function namedStatement(kind: 'VARIABLES' | 'STATUS', names: string[]): Statement {
  return { sql: `SHOW GLOBAL ${kind} WHERE Variable_name IN (${names.map(() => '?').join(', ')})`, params: names };
}

/** Variable_name/Value rows as a map (names mysqld did not return are absent). */
export function namedMap(rows: Row[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of rows) out.set(String(r.Variable_name), String(r.Value ?? ''));
  return out;
}

/** Counts the schemas besides the system ones; {@link hasUserDataFrom} reads its row. */
export const USER_DATA_STATEMENT: Statement = {
  sql: `SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (${SYSTEM_SCHEMAS.map(() => '?').join(', ')})`,
  params: SYSTEM_SCHEMAS,
};

export function hasUserDataFrom(rows: Row[]): boolean {
  return Number(rows[0]?.n ?? 0) > 0;
}

/** 'ON' / '1' / 1 / true → true. */
export function onOff(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  const s = String(v ?? '').toUpperCase();
  return s === 'ON' || s === '1' || s === 'YES' || s === 'TRUE';
}

export function num(v: unknown, fallback = 0): number {
  if (v === null || v === undefined || v === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}

export function str(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

/** MySQL prints GTID sets with newlines after commas; keep them on one line. */
export function oneLine(gtid: unknown): string {
  return str(gtid).replace(/\s+/g, '');
}

/** Semi-sync status common to both flavors, from the variable and status maps. */
export function semiSyncFrom(vars: Map<string, string>, status: Map<string, string>, fixedWaitCount?: number) {
  return {
    sourceEnabled: onOff(vars.get('rpl_semi_sync_master_enabled')),
    replicaEnabled: onOff(vars.get('rpl_semi_sync_slave_enabled')),
    waitForReplicaCount: fixedWaitCount ?? num(vars.get('rpl_semi_sync_master_wait_for_slave_count'), 1),
    waitSessions: num(status.get('Rpl_semi_sync_master_wait_sessions')),
    sourceClients: num(status.get('Rpl_semi_sync_master_clients')),
    sourceActive: onOff(status.get('Rpl_semi_sync_master_status')),
    replicaActive: onOff(status.get('Rpl_semi_sync_slave_status')),
    timeoutMs: str(vars.get('rpl_semi_sync_master_timeout')),
  };
}

export function firstRow(rows: Row[]): Row | undefined {
  return rows[0];
}

/** True when replication already runs from `t` with the same settings (ConfigureReplica has nothing to do). */
export function replicatesFrom(current: FlavorStatus, t: ReplicaTarget): boolean {
  const r = current.replica;
  return r !== null && r.ioRunning && r.sqlRunning && r.sourceHost === t.host && r.sourcePort === t.port &&
    r.sourceUser === t.user && current.semiSync.replicaEnabled === t.semiSync && !current.semiSync.sourceEnabled &&
    r.heartbeatPeriodMs === t.heartbeatPeriodMs;
}

/**
 * Promotion must not discard acknowledged transactions: refuses while something received from the source is
 * not executed yet (only when what was received is still there to apply).
 */
export function assertReceivedApplied(current: FlavorStatus): void {
  const r = current.replica;
  if (!r || !r.receivedReliable || r.received === '') return;
  if (!gtidContains(parseGtid(current.flavor, current.executed), parseGtid(current.flavor, r.received))) {
    throw failedPrecondition(
      `received transactions ${r.received} are not applied yet (executed: ${current.executed || 'none'}); ` +
      'call WaitForGtid with the received set first, or they would be discarded');
  }
}
