/**
 * The project's MySQL accounts and their privileges (the seed system's, reference section 3.1), per flavor,
 * and where their passwords come from.
 *
 * MariaDB differences: REPLICATION CLIENT is called BINLOG MONITOR (plus SLAVE MONITOR to read replica
 * status); there are no dynamic privileges like BACKUP_ADMIN or CLONE_ADMIN, no PROXY grant and no partial
 * revokes. read_only lets only accounts with READ ONLY ADMIN write, so moco-admin gets ALL minus READ ONLY
 * ADMIN and only moco-agent (the operator's own account) keeps it: a replica refuses moco-admin's writes too.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Flavor } from '../gtid/index.ts';
import { invalidArgument } from '../shared/errors.ts';

export const PASSWORD_KEYS = [
  'ADMIN_PASSWORD', 'AGENT_PASSWORD', 'REPLICATION_PASSWORD', 'CLONE_DONOR_PASSWORD',
  'EXPORTER_PASSWORD', 'BACKUP_PASSWORD', 'READONLY_PASSWORD', 'WRITABLE_PASSWORD',
] as const;
export type PasswordKey = (typeof PASSWORD_KEYS)[number];
export type Passwords = Record<PasswordKey, string>;

interface UserSpec {
  name: string;
  password: PasswordKey;
  mysql: { privileges: string[]; grantOption?: boolean; proxy?: boolean; revokeOnMysql?: string[] };
  mariadb: { privileges: string[]; grantOption?: boolean; revoke?: string[] };
}

const WRITABLE_PRIVS = [
  'ALTER', 'ALTER ROUTINE', 'CREATE', 'CREATE ROLE', 'CREATE ROUTINE', 'CREATE TEMPORARY TABLES', 'CREATE USER',
  'CREATE VIEW', 'DELETE', 'DROP', 'DROP ROLE', 'EVENT', 'EXECUTE', 'INDEX', 'INSERT', 'LOCK TABLES', 'PROCESS',
  'REFERENCES', 'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SELECT', 'SHOW DATABASES', 'SHOW VIEW', 'TRIGGER', 'UPDATE',
];
const mariadbPrivs = (privs: string[]): string[] =>
  privs.filter((p) => p !== 'CREATE ROLE' && p !== 'DROP ROLE')
    .flatMap((p) => (p === 'REPLICATION CLIENT' ? ['BINLOG MONITOR', 'SLAVE MONITOR'] : [p]));

export const USERS: UserSpec[] = [
  {
    name: 'moco-admin', password: 'ADMIN_PASSWORD',
    mysql: { privileges: ['ALL'], grantOption: true, proxy: true },
    mariadb: { privileges: ['ALL PRIVILEGES'], grantOption: true, revoke: ['READ_ONLY ADMIN'] },
  },
  {
    name: 'moco-agent', password: 'AGENT_PASSWORD',
    mysql: { privileges: ['BINLOG_ADMIN', 'CLONE_ADMIN', 'RELOAD', 'REPLICATION CLIENT', 'SELECT', 'SERVICE_CONNECTION_ADMIN', 'SYSTEM_VARIABLES_ADMIN', 'REPLICATION_SLAVE_ADMIN', 'CONNECTION_ADMIN', 'PROCESS', 'SHUTDOWN', 'BACKUP_ADMIN', 'SUPER'] },
    // The operator's own account: the only one that may flip read_only and write on a read-only instance.
    mariadb: { privileges: ['ALL PRIVILEGES'], grantOption: true },
  },
  {
    name: 'moco-repl', password: 'REPLICATION_PASSWORD',
    mysql: { privileges: ['REPLICATION CLIENT', 'REPLICATION SLAVE'] },
    mariadb: { privileges: ['REPLICATION SLAVE', 'BINLOG MONITOR', 'SLAVE MONITOR'] },
  },
  {
    name: 'moco-clone-donor', password: 'CLONE_DONOR_PASSWORD',
    mysql: { privileges: ['BACKUP_ADMIN', 'SERVICE_CONNECTION_ADMIN'] },
    // What mariadb-backup needs on the donor (measured): RELOAD, PROCESS, BINLOG MONITOR; SLAVE MONITOR for --slave-info.
    mariadb: { privileges: ['RELOAD', 'PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR', 'CONNECTION ADMIN'] },
  },
  {
    name: 'moco-exporter', password: 'EXPORTER_PASSWORD',
    mysql: { privileges: ['PROCESS', 'REPLICATION CLIENT', 'SELECT'] },
    mariadb: { privileges: ['PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR', 'SELECT'] },
  },
  {
    name: 'moco-backup', password: 'BACKUP_PASSWORD',
    mysql: { privileges: ['BACKUP_ADMIN', 'EVENT', 'RELOAD', 'SELECT', 'SHOW VIEW', 'TRIGGER', 'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SERVICE_CONNECTION_ADMIN'] },
    mariadb: { privileges: ['EVENT', 'RELOAD', 'SELECT', 'SHOW VIEW', 'TRIGGER', 'LOCK TABLES', 'PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR', 'REPLICATION SLAVE'] },
  },
  {
    name: 'moco-readonly', password: 'READONLY_PASSWORD',
    mysql: { privileges: ['PROCESS', 'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SELECT', 'SHOW DATABASES', 'SHOW VIEW'] },
    mariadb: { privileges: ['PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR', 'REPLICATION SLAVE', 'SELECT', 'SHOW DATABASES', 'SHOW VIEW'] },
  },
  {
    name: 'moco-writable', password: 'WRITABLE_PASSWORD',
    mysql: {
      privileges: WRITABLE_PRIVS, grantOption: true,
      revokeOnMysql: ['CREATE', 'CREATE ROUTINE', 'CREATE TEMPORARY TABLES', 'CREATE VIEW', 'DELETE', 'DROP', 'EVENT', 'EXECUTE', 'INDEX', 'INSERT', 'LOCK TABLES', 'REFERENCES', 'TRIGGER', 'UPDATE'],
    },
    // MariaDB has no partial revokes, so the mysql schema cannot be carved out (see docs/flavors.md).
    mariadb: { privileges: mariadbPrivs(WRITABLE_PRIVS), grantOption: true },
  },
];

/** Quotes a string literal for SQL (single quotes, backslashes). */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The bootstrap SQL that creates every account with its privileges. Runs while the data directory is being
 * initialised (mariadb-install-db --extra-file / mysqld --initialize --init-file), which writes no binary
 * log, so the instance starts with a clean GTID state.
 */
export function bootstrapSql(flavor: Flavor, passwords: Passwords): string {
  const out: string[] = [];
  if (flavor === 'mariadb') out.push('FLUSH PRIVILEGES;'); // grant tables are not loaded in bootstrap mode
  out.push('SET SESSION sql_log_bin = 0;');
  if (flavor === 'mysql') out.push("SET GLOBAL partial_revokes = 'ON';");
  for (const u of USERS) {
    const who = `${sqlString(u.name)}@'%'`;
    out.push(`CREATE USER IF NOT EXISTS ${who} IDENTIFIED BY ${sqlString(passwords[u.password])};`);
    const spec = flavor === 'mysql' ? u.mysql : u.mariadb;
    out.push(`GRANT ${spec.privileges.join(', ')} ON *.* TO ${who}${spec.grantOption ? ' WITH GRANT OPTION' : ''};`);
    if (flavor === 'mysql' && u.mysql.proxy) out.push(`GRANT PROXY ON ''@'' TO ${who} WITH GRANT OPTION;`);
    if (flavor === 'mysql' && u.mysql.revokeOnMysql) out.push(`REVOKE ${u.mysql.revokeOnMysql.join(', ')} ON mysql.* FROM ${who};`);
    if (flavor === 'mariadb' && u.mariadb.revoke) out.push(`REVOKE ${u.mariadb.revoke.join(', ')} ON *.* FROM ${who};`);
  }
  if (flavor === 'mysql') {
    out.push("INSTALL PLUGIN rpl_semi_sync_master SONAME 'semisync_master.so';");
    out.push("INSTALL PLUGIN rpl_semi_sync_slave SONAME 'semisync_slave.so';");
    out.push("INSTALL PLUGIN clone SONAME 'mysql_clone.so';");
  }
  // The seed drops root@localhost after init: only the project's accounts remain.
  if (flavor === 'mariadb') {
    // mariadb-install-db creates root for localhost, 127.0.0.1, ::1 and the host name: remove them all.
    out.push("DELETE FROM mysql.global_priv WHERE User = 'root';");
  } else {
    out.push("DROP USER IF EXISTS 'root'@'localhost';");
  }
  out.push('FLUSH PRIVILEGES;');
  return `${out.join('\n')}\n`;
}

/**
 * Reads the eight passwords: each from the environment variable of its name, else from a file of that name
 * in `dir` (a mounted Secret, or the local state directory). `required` lists the ones that must be present.
 * @throws MocoError INVALID_ARGUMENT naming every missing or empty password.
 */
export async function loadPasswords(env: NodeJS.ProcessEnv, dir: string | undefined, required: readonly PasswordKey[] = PASSWORD_KEYS): Promise<Passwords> {
  const out: Partial<Passwords> = {};
  for (const key of PASSWORD_KEYS) {
    let v = env[key];
    if ((v === undefined || v === '') && dir !== undefined) {
      try {
        v = (await fs.readFile(path.join(dir, key), 'utf8')).replace(/\r?\n$/, '');
      } catch {
        v = undefined;
      }
    }
    if (v !== undefined && v !== '') out[key] = v;
  }
  const missing = required.filter((k) => out[k] === undefined);
  if (missing.length > 0) {
    throw invalidArgument(`missing or empty password(s): ${missing.join(', ')}; set them as environment variables` +
      (dir ? ` or files in ${dir}` : ' or pass --passwords-dir'));
  }
  return out as Passwords;
}
