/**
 * The recipient side of a MySQL clone: CLONE INSTANCE pulls the donor's data in place; mysqld then stops
 * (error 3707 without a restarting parent) and its supervisor starts it again on the cloned data.
 */
import { MocoError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { MysqlDb } from '../db.ts';
import { isCloneRestart, isUnreachable } from '../mysql-errors.ts';
import { waitForRestart } from './restart.ts';
import type { CloneTracker } from './tracker.ts';

export interface MysqlCloneOptions {
  db: MysqlDb;
  host: string;
  port: number;
  user: string;
  password: string;
  bootTimeoutMs: number;
  tracker: CloneTracker;
  log: Logger;
  signal: AbortSignal;
}

/** The statements, for unit tests of what the agent issues. */
export function cloneStatements(host: string, port: number): { donorList: [string, unknown[]]; clone: string } {
  return {
    donorList: ['SET GLOBAL clone_valid_donor_list = ?', [`${host}:${port}`]],
    clone: 'CLONE INSTANCE FROM ?@?:? IDENTIFIED BY ?',
  };
}

export async function cloneMysql(o: MysqlCloneOptions): Promise<string> {
  const st = cloneStatements(o.host, o.port);
  await o.db.query(st.donorList[0], st.donorList[1]);
  o.tracker.phase('cloning');
  const since = Date.now();
  const conn = await o.db.connect();
  try {
    await conn.query(st.clone, [o.user, o.host, o.port, o.password]);
  } catch (err) {
    if (!isCloneRestart(err) && !isUnreachable(err)) {
      throw new MocoError('INTERNAL', `CLONE INSTANCE failed: ${(err as Error).message}`, { cause: err });
    }
  } finally {
    conn.destroy();
  }
  o.tracker.phase('restarting');
  await waitForRestart(o.db, since, o.bootTimeoutMs, o.signal);
  const rows = await o.db.query('SELECT STATE AS state, ERROR_MESSAGE AS error FROM performance_schema.clone_status');
  if (rows[0] && rows[0].state !== 'Completed') {
    throw new MocoError('INTERNAL', `clone ended in state ${String(rows[0].state)}: ${String(rows[0].error ?? '')}`);
  }
  const gtid = await o.db.query<{ g: string }>('SELECT @@gtid_executed AS g');
  return String(gtid[0]?.g ?? '').replace(/\s+/g, '');
}
