/**
 * Two steps of a restore: resetting the copy's accounts offline (MariaDB; MySQL's is in mysql.ts), and replaying
 * binlogs (both flavors; the flavor-dependent programs and arguments are {@link replayCommand}).
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeScratchDir } from '../scratch.ts';
import { MocoError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Flavor } from '../../gtid/index.ts';
import type { BinlogManifest } from '../../backup/layout.ts';
import type { BucketClient } from '../../backup/storage/types.ts';
import { unpackFiles } from '../../backup/tar.ts';
import { downloadArchive } from '../../backup/transfer.ts';
import type { Agent } from '../agent.ts';
import { requireMysqld } from '../mysqld.ts';
import { binlogNumber } from './binlogs.ts';
import { exited, pipeTools, tailLines, which, writeClientOptions } from '../../shared/tools.ts';
import { USERS, bootstrapSql, sqlString, type Passwords } from '../../shared/accounts.ts';

/**
 * The copy carries the source cluster's accounts and passwords. Before it is swapped in, mysqld runs once in
 * bootstrap mode on it (no network, no binlog) to re-create the project's accounts with this cluster's
 * passwords; the application's accounts stay as they were.
 */
export async function resetAccounts(agent: Agent, stagedDir: string, passwords: Passwords, signal: AbortSignal): Promise<void> {
  const install = requireMysqld();
  const work = await makeScratchDir(agent.options.dataDir, 'restore-');
  try {
    const sql = 'FLUSH PRIVILEGES;\n' +
      USERS.map((u) => `DROP USER IF EXISTS ${sqlString(u.name)}@'%';`).join('\n') + '\n' +
      bootstrapSql('mariadb', passwords);
    const child = spawn(install.mysqld, [
      `--defaults-file=${agent.options.myCnfPath}`, `--datadir=${stagedDir}`, '--bootstrap', '--skip-networking',
      '--skip-log-bin', `--socket=${path.join(work, 'bootstrap.sock')}`, `--pid-file=${path.join(work, 'bootstrap.pid')}`,
    ], { stdio: ['pipe', 'ignore', 'pipe'] });
    const tail = tailLines(child);
    const onAbort = (): void => {
      child.kill('SIGTERM');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdin.on('error', () => undefined);
    child.stdin.end(sql);
    const code = await exited(child).finally(() => signal.removeEventListener('abort', onAbort));
    if (code !== 0) throw new MocoError('INTERNAL', `resetting the accounts of the restored copy failed (exit ${code}): ${tail()}`);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Who replays, on which flavor: MariaDB as moco-agent, MySQL as moco-admin (see {@link replayCommand}). */
export interface ReplayTarget {
  flavor: Flavor;
  user: string;
  password: string;
}

/** The two programs of a replay and their arguments: the binlog reader piped into the client. */
export interface ReplayCommand {
  /** Candidate names of the binlog reader, first found wins. */
  reader: string[];
  readerArgs: string[];
  /** Candidate names of the client. */
  client: string[];
  clientArgs: string[];
  /** What to install when a program is missing. */
  install: string;
}

/**
 * The flavor-dependent part of a replay, in one place. Both: the files in order, every event before
 * `stopDateTime` (read as UTC: the reader runs with TZ=UTC), applied with sql_log_bin=0 so the restored
 * instance does not binlog them again. MariaDB: mariadb-binlog --start-position=<GTID position> (the events
 * after it). MySQL: MySQL's own mysqlbinlog (MariaDB's cannot read MySQL 8.4 binlogs) with
 * --exclude-gtids=<the backup's GTID set>, which skips the transactions the copy already holds.
 */
export function replayCommand(flavor: Flavor, o: { fromGtid: string; stopDateTime: string; files: string[]; optFile: string }): ReplayCommand {
  const clientArgs = [`--defaults-file=${o.optFile}`, '--binary-mode', '--init-command=SET SESSION sql_log_bin = 0'];
  if (flavor === 'mysql') {
    return {
      reader: ['mysqlbinlog'], client: ['mysql'], clientArgs,
      readerArgs: [...(o.fromGtid !== '' ? [`--exclude-gtids=${o.fromGtid}`] : []), `--stop-datetime=${o.stopDateTime}`, ...o.files],
      install: "MySQL 8.4's mysqlbinlog and mysql client programs are needed to replay binlogs; install them (mysql-client, or mysql-community-client) and put them first on PATH",
    };
  }
  return {
    reader: ['mariadb-binlog', 'mysqlbinlog'], client: ['mariadb', 'mysql'], clientArgs,
    readerArgs: [...(o.fromGtid !== '' ? [`--start-position=${o.fromGtid}`] : []), `--stop-datetime=${o.stopDateTime}`, ...o.files],
    install: 'mariadb-binlog and the mariadb client are needed to replay binlogs; install mariadb-client',
  };
}

/**
 * The version of a `mysqlbinlog --version` line when it is MySQL's (`mysqlbinlog  Ver 8.4.6 for Linux on
 * x86_64 (MySQL Community Server - GPL)`); undefined for MariaDB's (`mysqlbinlog Ver 3.5 for debian-linux-gnu
 * at x86_64`, a binlog format number, not a server version) and anything else.
 */
export function mysqlToolVersion(out: string): [number, number] | undefined {
  const m = /\bVer\s+(\d+)\.(\d+)\.\d+/.exec(out);
  if (!m || /mariadb/i.test(out)) return undefined;
  return [Number(m[1]), Number(m[2])];
}

/** Refuses a mysqlbinlog that is not MySQL 8.4's or later (on a MariaDB host `mysqlbinlog` is mariadb-binlog). */
async function requireMysqlBinlog(bin: string): Promise<void> {
  const out = await new Promise<string>((resolve) => {
    execFile(bin, ['--version'], { timeout: 10_000 }, (err, stdout) => resolve(err ? `(failed: ${err.message})` : stdout.trim()));
  });
  const v = mysqlToolVersion(out);
  if (!v || v[0] < 8 || (v[0] === 8 && v[1] < 4)) {
    throw new MocoError('FAILED_PRECONDITION', `${bin} is not MySQL 8.4's mysqlbinlog (it says "${out}"), so it cannot read ` +
      "MySQL 8.4 binlogs; install MySQL 8.4's client programs and put them first on PATH");
  }
}

/**
 * Downloads the binlog archive next to the data directory and replays it into mysqld as `target.user`:
 * transactions after `fromGtid` (the backup's position or set) whose event time is before `stopDateTime`
 * (UTC). Replayed with sql_log_bin=0: the restored instance starts its own GTID history.
 */
export async function replayBinlogs(agent: Agent, bucket: BucketClient, binlog: BinlogManifest, fromGtid: string,
  stopDateTime: string, signal: AbortSignal, log: Logger, onBytes: (n: number) => void, target: ReplayTarget): Promise<void> {
  const plan = replayCommand(target.flavor, { fromGtid, stopDateTime, files: [], optFile: '' });
  const binlogTool = plan.reader.map((n) => which(n)).find((p) => p !== undefined);
  const client = plan.client.map((n) => which(n)).find((p) => p !== undefined);
  if (!binlogTool || !client) throw new MocoError('FAILED_PRECONDITION', plan.install);
  if (target.flavor === 'mysql') await requireMysqlBinlog(binlogTool);
  const work = `${agent.options.dataDir}.restore-binlog`;
  await fs.rm(work, { recursive: true, force: true });
  await fs.mkdir(work, { recursive: true, mode: 0o750 });
  try {
    const unpack = unpackFiles(work);
    await downloadArchive(bucket, binlog.archive, unpack.sink, unpack.done.then(() => undefined), { signal, onProgress: onBytes });
    const files = (await unpack.done).filter((n) => /\.\d+$/.test(n)).sort((a, b) => binlogNumber(a) - binlogNumber(b));
    if (files.length === 0) throw new MocoError('INTERNAL', `the binlog archive ${binlog.archive.key} holds no binlog files`);
    const optFile = path.join(work, 'client.cnf');
    await writeClientOptions(optFile, { user: target.user, password: target.password, socket: agent.options.socketPath });
    const cmd = replayCommand(target.flavor, { fromGtid, stopDateTime, files, optFile });
    log.info({ files, fromGtid, stopDateTime, reader: binlogTool, user: target.user }, 'replaying binlogs');
    // TMPDIR: the reader writes the files of LOAD DATA events there; the work directory has the room.
    await pipeTools(
      { cmd: binlogTool, args: cmd.readerArgs, what: path.basename(binlogTool), cwd: work, env: { ...process.env, TZ: 'UTC', TMPDIR: work } },
      { cmd: client, args: cmd.clientArgs, what: 'replaying binlogs' },
      { signal },
    );
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
