/**
 * The donor side of a MariaDB clone: mariadb-backup reads this instance's data directory (it must run where
 * the files are, hence in the agent) and writes an xbstream to stdout, which the gRPC stream forwards.
 * Credentials go to the tool in a temporary option file (mode 0600), never on its command line.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { MocoError } from '../../shared/errors.ts';
import { exited, tailLines } from '../tools.ts';

export interface DonorOptions {
  mariadbBackup: string;
  myCnfPath: string;
  socketPath: string;
  dataDir: string;
  user: string;
  password: string;
}

export interface BackupStream {
  stream: Readable;
  /** Resolves when the tool exits 0; rejects with its last stderr lines otherwise. */
  done: Promise<void>;
  /** Stops the tool (SIGTERM by PID). */
  stop(): void;
  /** The binlog position the copy is consistent with, as the tool logged it (after `done`). */
  position(): BackupPosition | undefined;
}

export interface BackupPosition {
  file: string;
  position: string;
  /** The GTID of the last transaction in the copy ('' when the instance never binlogged one). */
  gtid: string;
}

const POSITION_LINE = /MySQL binlog position: filename '([^']*)', position '([^']*)'(?:, GTID of the last change '([^']*)')?/;

/** Finds the consistent binlog position in mariadb-backup's log output. */
export function parseBackupPosition(text: string): BackupPosition | undefined {
  const m = POSITION_LINE.exec(text);
  return m ? { file: m[1] ?? '', position: m[2] ?? '', gtid: m[3] ?? '' } : undefined;
}

/** A value for a MySQL option file, quoted and escaped. */
export function optionValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Starts mariadb-backup --backup --stream=xbstream for this instance. */
export async function startBackupStream(o: DonorOptions): Promise<BackupStream> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-donor-'));
  const optFile = path.join(work, 'backup.cnf');
  await fs.writeFile(optFile,
    `!include ${o.myCnfPath}\n[mariadb-backup]\nuser=${optionValue(o.user)}\npassword=${optionValue(o.password)}\nsocket=${o.socketPath}\n`,
    { mode: 0o600 });
  const child = spawn(o.mariadbBackup, [
    `--defaults-file=${optFile}`, '--backup', '--stream=xbstream', `--datadir=${o.dataDir}`,
    `--target-dir=${path.join(work, 'target')}`, '--parallel=2',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = tailLines(child);
  let position: BackupPosition | undefined;
  let carry = '';
  child.stderr.on('data', (s: string | Buffer) => {
    const text = carry + String(s);
    position = parseBackupPosition(text) ?? position;
    carry = text.slice(-300);
  });
  const done = exited(child).then(
    async (code) => {
      await fs.rm(work, { recursive: true, force: true });
      if (code !== 0) throw new MocoError('INTERNAL', `mariadb-backup failed on the donor (exit ${code}): ${tail()}`);
    },
    async (err) => {
      await fs.rm(work, { recursive: true, force: true });
      throw new MocoError('INTERNAL', `cannot run ${o.mariadbBackup}: ${(err as Error).message}`, { cause: err });
    },
  );
  return {
    stream: child.stdout as Readable,
    done,
    stop: () => {
      if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
    },
    position: () => position,
  };
}
