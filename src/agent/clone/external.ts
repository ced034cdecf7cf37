/**
 * A copy from an external MariaDB server that has no agent (the first step of replicating from an external
 * source). MariaDB has no CLONE protocol and mariadb-backup must run on the donor's host, so the copy is logical:
 * the donor's accounts (SHOW CREATE USER / SHOW GRANTS, the cluster's own and the system ones left out), then a
 * consistent mariadb-dump of its schemas (one transaction, with the GTID position it ends at), loaded through
 * the mariadb client without writing this instance's binlog. The position becomes this instance's GTID state,
 * so that replication from the donor resumes exactly after the copy.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeScratchDir } from '../scratch.ts';
import { Transform, type TransformCallback } from 'node:stream';
import mysql from 'mysql2/promise';
import { MocoError, messageOf } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Db } from '../db.ts';
import { SYSTEM_SCHEMAS } from '../flavor/common.ts';
import { pipeTools, which, writeClientOptions } from '../../shared/tools.ts';
import type { CloneTracker } from './tracker.ts';

export interface ExternalDonor {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface ExternalCopyOptions {
  db: Db;
  donor: ExternalDonor;
  /** This instance: its socket and the agent's own account (the only one that writes while read-only). */
  socketPath: string;
  agentPassword: string;
  /** This instance's data directory (the scratch space for option files is next to it). */
  dataDir: string;
  tracker: CloneTracker;
  log: Logger;
  signal: AbortSignal;
}

/** Accounts never copied: the cluster's own (re-created by init with this cluster's passwords) and the system ones. */
export function copiedAccount(user: string, host: string): boolean {
  if (user === '' || user === 'root' || user === 'mariadb.sys' || user === 'mysql.sys' || user === 'PUBLIC') return false;
  if (user.startsWith('moco-')) return false;
  return host !== '';
}

/** Finds the GTID position mariadb-dump --gtid --master-data=2 prints (a comment near the end of the dump). */
export class GtidScanner extends Transform {
  gtid: string | undefined;
  bytes = 0;
  private tail = '';

  constructor(private readonly onBytes: (n: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.onBytes(chunk.length);
    // Only comment lines matter; keep a short tail so a line split across chunks is still seen.
    const text = this.tail + chunk.toString('latin1');
    const m = /^-- SET GLOBAL gtid_slave_pos='([^']*)';$/m.exec(text);
    if (m) this.gtid = m[1];
    this.tail = text.slice(-256);
    done(null, chunk);
  }
}

async function connectDonor(d: ExternalDonor): Promise<mysql.Connection> {
  try {
    return await mysql.createConnection({ host: d.host, port: d.port, user: d.user, password: d.password, connectTimeout: 10_000, dateStrings: true });
  } catch (err) {
    throw new MocoError('FAILED_PRECONDITION', `cannot connect to the external source ${d.user}@${d.host}:${d.port}: ${messageOf(err)}`, { cause: err, retryable: true });
  }
}

interface DonorFacts {
  schemas: string[];
  accounts: string;
  serverId: number;
  gtid: string;
}

/** What the copy needs from the donor before the dump: its schemas, its accounts as SQL, its server id. */
async function readDonor(d: ExternalDonor): Promise<DonorFacts> {
  const conn = await connectDonor(d);
  try {
    const [[info]] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v, @@server_id AS id, @@log_bin AS log_bin, @@gtid_binlog_pos AS gtid');
    if (!/mariadb/i.test(String(info?.v))) {
      throw new MocoError('FAILED_PRECONDITION', `the external source ${d.host}:${d.port} runs ${String(info?.v)}, not MariaDB; a MariaDB cluster replicates from MariaDB only`);
    }
    if (Number(info?.log_bin) !== 1) {
      throw new MocoError('FAILED_PRECONDITION', `the external source ${d.host}:${d.port} has binary logging off; enable log_bin there so the cluster can replicate from it`);
    }
    const [schemaRows] = await conn.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME');
    const schemas = schemaRows.map((r) => String(r.s)).filter((s) => !SYSTEM_SCHEMAS.includes(s));
    const [users] = await conn.query<mysql.RowDataPacket[]>("SELECT User AS u, Host AS h FROM mysql.user WHERE is_role = 'N' ORDER BY User, Host");
    const statements: string[] = [];
    for (const row of users) {
      const [user, host] = [String(row.u), String(row.h)];
      if (!copiedAccount(user, host)) continue;
      const [[create]] = await conn.query<mysql.RowDataPacket[]>('SHOW CREATE USER ?@?', [user, host]);
      const [grants] = await conn.query<mysql.RowDataPacket[]>('SHOW GRANTS FOR ?@?', [user, host]);
      const who = `${conn.escape(user)}@${conn.escape(host)}`;
      statements.push(`DROP USER IF EXISTS ${who};`, `${String(Object.values(create ?? {})[0])};`,
        ...grants.map((g) => `${String(Object.values(g)[0])};`));
    }
    return { schemas, accounts: statements.join('\n'), serverId: Number(info?.id), gtid: String(info?.gtid ?? '') };
  } catch (err) {
    if (err instanceof MocoError) throw err;
    throw new MocoError('FAILED_PRECONDITION', `reading the external source ${d.host}:${d.port} as ${d.user} failed: ${messageOf(err)} ` +
      '(the account needs SELECT, SHOW VIEW, TRIGGER, EVENT, RELOAD, BINLOG MONITOR and REPLICATION SLAVE on *.*)', { cause: err });
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** Copies the donor into this (empty) instance; returns the GTID position the copy ends at. */
export async function copyFromExternalMariadb(o: ExternalCopyOptions, localServerId: number): Promise<string> {
  const dump = which('mariadb-dump') ?? which('mysqldump');
  const client = which('mariadb') ?? which('mysql');
  if (!dump || !client) throw new MocoError('FAILED_PRECONDITION', 'mariadb-dump and the mariadb client are needed to copy from an external source; install mariadb-client');
  o.tracker.phase('reading the source');
  const facts = await readDonor(o.donor);
  if (facts.serverId === localServerId) {
    throw new MocoError('FAILED_PRECONDITION', `the external source has server_id ${facts.serverId}, the same as this instance; ` +
      'replication would skip its events: give the cluster another spec.serverIDBase, or the source another server_id');
  }
  const work = await makeScratchDir(o.dataDir, 'external-');
  try {
    const donorCnf = path.join(work, 'donor.cnf');
    const localCnf = path.join(work, 'local.cnf');
    await writeClientOptions(donorCnf, { user: o.donor.user, password: o.donor.password, host: o.donor.host, port: o.donor.port });
    await writeClientOptions(localCnf, { user: 'moco-agent', password: o.agentPassword, socket: o.socketPath });
    o.tracker.phase('copying');
    o.log.info({ schemas: facts.schemas, accounts: facts.accounts.split('\n').filter((l) => l.startsWith('DROP')).length }, 'copying from the external source');
    const scanner = new GtidScanner((n) => o.tracker.addBytes(n));
    const loader = { cmd: client, args: [`--defaults-file=${localCnf}`, '--init-command=SET SESSION sql_log_bin = 0'], what: 'loading the copy of the external source' };
    const dumper = facts.schemas.length === 0 ? undefined : {
      cmd: dump, what: 'mariadb-dump of the external source',
      args: [`--defaults-file=${donorCnf}`, '--single-transaction', '--gtid', '--master-data=2', '--routines', '--events', '--triggers',
        '--hex-blob', '--max-allowed-packet=1G', '--databases', ...facts.schemas],
    };
    await pipeTools(dumper, loader, { signal: o.signal, prefix: `${facts.accounts}\n`, via: scanner });
    if (dumper && scanner.gtid === undefined) throw new MocoError('INTERNAL', 'the dump of the external source carries no GTID position; is log_bin on there?');
    const gtid = dumper ? scanner.gtid ?? '' : facts.gtid;
    o.tracker.phase('positioning');
    // This instance's GTID history starts where the copy ends: replicas cloned from it, and replication from the
    // source, continue from there.
    await o.db.query('STOP SLAVE');
    await o.db.query('RESET MASTER');
    if (gtid !== '') await o.db.query('SET GLOBAL gtid_binlog_state = ?', [gtid]);
    await o.db.query('SET GLOBAL gtid_slave_pos = ?', [gtid]);
    return gtid;
  } catch (err) {
    await dropCopied(o.db, o.log);
    throw err;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Undoes a partial copy (the instance held no user data before), so that the clone can be tried again. */
async function dropCopied(db: Db, log: Logger): Promise<void> {
  try {
    const rows = await db.query<{ s: string }>('SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA');
    for (const { s } of rows) {
      if (SYSTEM_SCHEMAS.includes(s)) continue;
      await db.query(`DROP DATABASE \`${s.replace(/`/g, '``')}\``);
    }
  } catch (err) {
    log.warn({ err: messageOf(err) }, 'could not remove a partial copy; re-initialize the instance before trying again');
  }
}
