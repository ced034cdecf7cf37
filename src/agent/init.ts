/**
 * init: prepares an empty data directory for either flavor, offline, before mysqld first starts. The accounts
 * are created by the bootstrap itself (mariadb-install-db --extra-file, mysqld --initialize --init-file), which
 * writes no binary log, so every new instance starts with the same clean GTID state and nothing is errant.
 *
 * Idempotent: the marker `moco-initialized` next to the data directory (so it survives a clone swapping the
 * directory) says it is done, and a second run changes nothing. A run that crashed half-way is detected by
 * its `.moco-initializing` marker and redone. A non-empty data directory without either marker is never
 * touched: it may hold someone's data.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MocoError, failedPrecondition } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { writeNewInstanceId } from './instance-id.ts';
import { makeScratchDir } from './scratch.ts';
import type { MysqldInstall } from './mysqld.ts';
import { run } from '../shared/tools.ts';
import { bootstrapSql, type Passwords } from '../shared/accounts.ts';

export interface InitOptions {
  install: MysqldInstall;
  myCnfPath: string;
  dataDir: string;
  passwords: Passwords;
  log: Logger;
  signal?: AbortSignal;
}

export const INITIALIZED_MARKER = 'moco-initialized';
const INITIALIZING_MARKER = '.moco-initializing';

const markerPath = (dataDir: string, name: string): string => path.join(path.dirname(dataDir), name);

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}

async function isEmptyDir(p: string): Promise<boolean> {
  try {
    return (await fs.readdir(p)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/** Initialises the data directory unless already done. Returns true when it initialised it now. */
export async function initDataDir(o: InitOptions): Promise<boolean> {
  const done = markerPath(o.dataDir, INITIALIZED_MARKER);
  const doing = markerPath(o.dataDir, INITIALIZING_MARKER);
  if (await exists(done)) {
    if (!(await exists(o.dataDir))) {
      throw failedPrecondition(`${o.dataDir} is missing but ${done} says it was initialised; ` +
        'check the volume, or remove the marker to initialise an empty instance');
    }
    o.log.info({ dataDir: o.dataDir }, 'data directory already initialised');
    return false;
  }
  if (!(await isEmptyDir(o.dataDir)) && !(await exists(doing))) {
    throw failedPrecondition(`${o.dataDir} is not empty and was not initialised by moco; ` +
      'refusing to touch it (move it away, or point --data-dir at an empty directory)');
  }
  await fs.mkdir(path.dirname(o.dataDir), { recursive: true });
  await fs.writeFile(doing, '');
  await fs.rm(o.dataDir, { recursive: true, force: true });
  await fs.mkdir(o.dataDir, { recursive: true, mode: 0o750 });

  const work = await makeScratchDir(o.dataDir, 'init-');
  const sqlFile = path.join(work, 'bootstrap.sql');
  try {
    // The bootstrap SQL holds passwords: private file, removed right after.
    const sql = bootstrapSql(o.install.flavor, o.passwords) +
      (o.install.flavor === 'mysql' ? 'RESET BINARY LOGS AND GTIDS;\n' : '');
    await fs.writeFile(sqlFile, sql, { mode: 0o600 });
    const started = Date.now();
    if (o.install.flavor === 'mariadb') {
      if (!o.install.installDb) throw new MocoError('FAILED_PRECONDITION', 'mariadb-install-db not found; install mariadb-server');
      await run(o.install.installDb, [
        `--defaults-file=${o.myCnfPath}`, '--skip-test-db', '--auth-root-authentication-method=normal',
        `--extra-file=${sqlFile}`,
      ], 'mariadb-install-db', o.signal);
    } else {
      await run(o.install.mysqld, [
        `--defaults-file=${o.myCnfPath}`, '--initialize-insecure', `--init-file=${sqlFile}`,
      ], 'mysqld --initialize-insecure', o.signal);
    }
    await writeNewInstanceId(o.dataDir);
    const h = await fs.open(done, 'w');
    await h.sync();
    await h.close();
    await fs.rm(doing, { force: true });
    o.log.info({ dataDir: o.dataDir, flavor: o.install.flavor, ms: Date.now() - started }, 'data directory initialised');
    return true;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
