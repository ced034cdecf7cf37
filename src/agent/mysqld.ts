/**
 * Finding the mysqld to run and its flavor: MOCO_MYSQLD if set, else `mysqld` or `mariadbd` on PATH (and in
 * /usr/sbin). MySQL 8.4 and MariaDB 10.11+ are supported.
 */
import { execFileSync } from 'node:child_process';
import type { Flavor } from '../gtid/index.ts';
import { MocoError } from '../shared/errors.ts';
import { which } from '../shared/tools.ts';

export interface MysqldInstall {
  flavor: Flavor;
  version: string;
  mysqld: string;
  /** MariaDB: mariadb-install-db; MySQL: the same mysqld with --initialize. */
  installDb: string | undefined;
  mariadbBackup: string | undefined;
  mbstream: string | undefined;
  client: string | undefined;
}

/** Parses `mysqld --version` output. */
export function parseMysqldVersion(out: string): { flavor: Flavor; version: string } | undefined {
  const m = /Ver\s+(\d+\.\d+\.\d+)(-MariaDB)?/i.exec(out);
  if (!m) return undefined;
  return { flavor: m[2] || /mariadb/i.test(out) ? 'mariadb' : 'mysql', version: m[1] as string };
}

/** Finds mysqld; undefined when none is installed. */
export function findMysqld(env: NodeJS.ProcessEnv = process.env): MysqldInstall | undefined {
  const candidates = env.MOCO_MYSQLD ? [env.MOCO_MYSQLD] : ['mysqld', 'mariadbd'];
  for (const name of candidates) {
    const bin = which(name);
    if (!bin) continue;
    let out: string;
    try {
      out = execFileSync(bin, ['--no-defaults', '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      continue;
    }
    const v = parseMysqldVersion(out);
    if (!v) continue;
    return {
      ...v,
      mysqld: bin,
      installDb: v.flavor === 'mariadb' ? which('mariadb-install-db') : bin,
      mariadbBackup: which('mariadb-backup'),
      mbstream: which('mbstream'),
      client: v.flavor === 'mariadb' ? which('mariadb') ?? which('mysql') : which('mysql'),
    };
  }
  return undefined;
}

/** Like {@link findMysqld} but throws a message that says how to install one. */
export function requireMysqld(env: NodeJS.ProcessEnv = process.env): MysqldInstall {
  const found = findMysqld(env);
  if (!found) {
    throw new MocoError('FAILED_PRECONDITION',
      'no mysqld found (looked for MOCO_MYSQLD, mysqld and mariadbd on PATH and in /usr/sbin); install MariaDB with ' +
      '"apt-get install -y mariadb-server mariadb-client mariadb-backup" or put MySQL 8.4\'s mysqld on PATH');
  }
  return found;
}
