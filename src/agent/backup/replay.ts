/** The two offline-ish steps of a MariaDB restore: resetting the copy's accounts, and replaying binlogs. */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MocoError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { BinlogManifest } from '../../backup/layout.ts';
import type { BucketClient } from '../../backup/storage/types.ts';
import { unpackFiles } from '../../backup/tar.ts';
import { downloadArchive } from '../../backup/transfer.ts';
import type { Agent } from '../agent.ts';
import { requireMysqld } from '../mysqld.ts';
import { optionValue } from '../clone/donor.ts';
import { binlogNumber } from './binlogs.ts';
import { exited, tailLines, which } from '../tools.ts';
import { USERS, bootstrapSql, sqlString, type Passwords } from '../users.ts';

/**
 * The copy carries the source cluster's accounts and passwords. Before it is swapped in, mysqld runs once in
 * bootstrap mode on it (no network, no binlog) to re-create the project's accounts with this cluster's
 * passwords; the application's accounts stay as they were.
 */
export async function resetAccounts(agent: Agent, stagedDir: string, passwords: Passwords, signal: AbortSignal): Promise<void> {
  const install = requireMysqld();
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-restore-'));
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

/**
 * Downloads the binlog archive next to the data directory and replays it into mysqld: transactions after
 * `fromGtid` (the backup's position; the start position is exclusive) whose event time is before
 * `stopDateTime` (UTC). Replayed with sql_log_bin=0: the restored instance starts its own GTID history.
 */
export async function replayBinlogs(agent: Agent, bucket: BucketClient, binlog: BinlogManifest, fromGtid: string,
  stopDateTime: string, signal: AbortSignal, log: Logger, onBytes: (n: number) => void): Promise<void> {
  const binlogTool = which('mariadb-binlog') ?? which('mysqlbinlog');
  const client = which('mariadb') ?? which('mysql');
  if (!binlogTool || !client) throw new MocoError('FAILED_PRECONDITION', 'mariadb-binlog and the mariadb client are needed to replay binlogs; install mariadb-client');
  const work = `${agent.options.dataDir}.restore-binlog`;
  await fs.rm(work, { recursive: true, force: true });
  await fs.mkdir(work, { recursive: true, mode: 0o750 });
  try {
    const unpack = unpackFiles(work);
    await downloadArchive(bucket, binlog.archive, unpack.sink, unpack.done.then(() => undefined), { signal, onProgress: onBytes });
    const files = (await unpack.done).filter((n) => /\.\d+$/.test(n)).sort((a, b) => binlogNumber(a) - binlogNumber(b));
    if (files.length === 0) throw new MocoError('INTERNAL', `the binlog archive ${binlog.archive.key} holds no binlog files`);
    const optFile = path.join(work, 'client.cnf');
    await fs.writeFile(optFile, `[client]\nuser=moco-agent\npassword=${optionValue(agent.options.passwords.agent)}\n` +
      `socket=${agent.options.socketPath}\n`, { mode: 0o600 });
    const args = [...(fromGtid !== '' ? [`--start-position=${fromGtid}`] : []), `--stop-datetime=${stopDateTime}`, ...files];
    log.info({ files, fromGtid, stopDateTime }, 'replaying binlogs');
    const reader = spawn(binlogTool, args, { cwd: work, env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const writer = spawn(client, [`--defaults-file=${optFile}`, '--binary-mode', '--init-command=SET SESSION sql_log_bin = 0'],
      { stdio: ['pipe', 'ignore', 'pipe'] });
    const readerTail = tailLines(reader);
    const writerTail = tailLines(writer);
    writer.stdin.on('error', () => undefined);
    reader.stdout.pipe(writer.stdin);
    const onAbort = (): void => {
      reader.kill('SIGTERM');
      writer.kill('SIGTERM');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const [rc, wc] = await Promise.all([exited(reader), exited(writer)]);
      if (rc !== 0) throw new MocoError('INTERNAL', `mariadb-binlog failed (exit ${rc}): ${readerTail()}`);
      if (wc !== 0) throw new MocoError('INTERNAL', `replaying binlogs failed (exit ${wc}): ${writerTail()}`);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
