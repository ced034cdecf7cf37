/**
 * The recipient side of a MySQL clone: CLONE INSTANCE pulls the donor's data in place; mysqld then stops
 * (error 3707 without a restarting parent) and its supervisor starts it again on the cloned data.
 */
import { MocoError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { MysqlDb } from '../db.ts';
import { USERS, bootstrapSql, sqlString, type Passwords } from '../../shared/accounts.ts';
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
  /**
   * External donor: its data replaces this instance's accounts, so after the restart this account of the
   * donor's (over the local socket) re-creates the cluster's own accounts with the cluster's passwords.
   */
  init?: { user: string; password: string; socketPath: string; passwords: Record<string, string> };
}

/** The statements that re-create the cluster's accounts on data cloned from an external donor. */
export function reinitStatements(passwords: Passwords): { statements: string[]; plugins: string[] } {
  const all = bootstrapSql('mysql', passwords).split('\n').filter((l) => l.trim() !== '');
  const plugins = all.filter((l) => l.startsWith('INSTALL PLUGIN'));
  // The donor's own accounts (root included) stay; the cluster's are dropped first, in case the donor had some
  // with other passwords (another MOCO cluster).
  const drops = USERS.map((u) => `DROP USER IF EXISTS ${sqlString(u.name)}@'%';`);
  const statements = all.filter((l) => !l.startsWith('INSTALL PLUGIN') && !l.startsWith("DROP USER IF EXISTS 'root'"));
  const at = statements.findIndex((l) => l.startsWith('CREATE USER'));
  statements.splice(at, 0, ...drops);
  return { statements, plugins };
}

const ER_UDF_EXISTS = 1125;

async function reinitAccounts(o: MysqlCloneOptions, init: NonNullable<MysqlCloneOptions['init']>, since: number): Promise<void> {
  const db = new MysqlDb({ socketPath: init.socketPath, user: init.user, password: init.password });
  try {
    await waitForRestart(db, since, o.bootTimeoutMs, o.signal);
    const { statements, plugins } = reinitStatements(init.passwords as Passwords);
    const conn = await db.connect();
    try {
      for (const sql of statements) await conn.query(sql);
      for (const sql of plugins) {
        await conn.query(sql).catch((err: { errno?: number }) => {
          if (err.errno !== ER_UDF_EXISTS) throw err;
        });
      }
    } finally {
      conn.destroy();
    }
  } catch (err) {
    throw new MocoError('INTERNAL', `re-creating the cluster's accounts as ${init.user} after the clone failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await db.close();
  }
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
  if (o.init) await reinitAccounts(o, o.init, since);
  await waitForRestart(o.db, since, o.bootTimeoutMs, o.signal);
  const rows = await o.db.query('SELECT STATE AS state, ERROR_MESSAGE AS error FROM performance_schema.clone_status');
  if (rows[0] && rows[0].state !== 'Completed') {
    throw new MocoError('INTERNAL', `clone ended in state ${String(rows[0].state)}: ${String(rows[0].error ?? '')}`);
  }
  const gtid = await o.db.query<{ g: string }>('SELECT @@gtid_executed AS g');
  return String(gtid[0]?.g ?? '').replace(/\s+/g, '');
}
