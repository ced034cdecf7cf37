/**
 * The project's MySQL accounts and their privileges (the seed system's, as MOCO's documentation lists them), per flavor,
 * and where their passwords come from.
 *
 * MariaDB differences (measured; docs/users.md): REPLICATION CLIENT is called BINLOG MONITOR (plus SLAVE MONITOR
 * to read replica status); there are no dynamic privileges like BACKUP_ADMIN or CLONE_ADMIN, no PROXY grant and
 * no partial revokes.
 * - read_only lets only accounts with READ_ONLY ADMIN write, and SUPER or SET USER let an account create a
 *   stored routine that runs as another account (DEFINER), so as moco-agent: only moco-agent (the operator's
 *   own account) holds any of the three, and moco-admin gets ALL minus them. A replica then refuses moco-admin.
 * - moco-writable cannot have "everything but the mysql schema" by a revoke. Its data privileges are granted on
 *   the database pattern `%` instead, with an exact `mysql` entry that holds only SELECT and SHOW VIEW: MariaDB
 *   uses the most specific matching database entry, so `mysql` gets the read-only one. Globally it holds only
 *   privileges that modify no table.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Flavor } from '../gtid/index.ts';
import { invalidArgument } from './errors.ts';

export const PASSWORD_KEYS = [
  'ADMIN_PASSWORD', 'AGENT_PASSWORD', 'REPLICATION_PASSWORD', 'CLONE_DONOR_PASSWORD',
  'EXPORTER_PASSWORD', 'BACKUP_PASSWORD', 'READONLY_PASSWORD', 'WRITABLE_PASSWORD',
] as const;
export type PasswordKey = (typeof PASSWORD_KEYS)[number];
export type Passwords = Record<PasswordKey, string>;

/** A MariaDB database-level grant: `privileges` (or every database privilege) on the database pattern `db`. */
export interface MariadbDatabaseGrant {
  db: string;
  privileges: readonly string[] | 'ALL';
  grantOption?: boolean;
}

/**
 * An account's MariaDB privileges, spelled as information_schema and SHOW GRANTS spell them. `global: 'ALL'`
 * means every global privilege except `except`.
 */
export interface MariadbPrivileges {
  global: readonly string[] | 'ALL';
  except?: readonly string[];
  grantOption?: boolean;
  databases?: readonly MariadbDatabaseGrant[];
}

interface UserSpec {
  name: string;
  password: PasswordKey;
  mysql: { privileges: string[]; grantOption?: boolean; proxy?: boolean; revokeOnMysql?: string[] };
  mariadb: MariadbPrivileges;
}

/** MariaDB 10.11's global privileges (what ALL PRIVILEGES ON *.* grants), as information_schema names them. */
export const MARIADB_GLOBAL_PRIVILEGES: readonly string[] = [
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'RELOAD', 'SHUTDOWN', 'PROCESS', 'FILE', 'REFERENCES',
  'INDEX', 'ALTER', 'SHOW DATABASES', 'SUPER', 'CREATE TEMPORARY TABLES', 'LOCK TABLES', 'EXECUTE', 'REPLICATION SLAVE',
  'BINLOG MONITOR', 'CREATE VIEW', 'SHOW VIEW', 'CREATE ROUTINE', 'ALTER ROUTINE', 'CREATE USER', 'EVENT', 'TRIGGER',
  'CREATE TABLESPACE', 'DELETE HISTORY', 'SET USER', 'FEDERATED ADMIN', 'CONNECTION ADMIN', 'READ_ONLY ADMIN',
  'REPLICATION SLAVE ADMIN', 'REPLICATION MASTER ADMIN', 'BINLOG ADMIN', 'BINLOG REPLAY', 'SLAVE MONITOR',
];

/** MariaDB 10.11's database-level privileges (what ALL PRIVILEGES ON db.* grants). */
export const MARIADB_DATABASE_PRIVILEGES: readonly string[] = [
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'REFERENCES', 'INDEX', 'ALTER', 'CREATE TEMPORARY TABLES',
  'LOCK TABLES', 'EXECUTE', 'CREATE VIEW', 'SHOW VIEW', 'CREATE ROUTINE', 'ALTER ROUTINE', 'EVENT', 'TRIGGER',
  'DELETE HISTORY',
];

/**
 * On MariaDB, the privileges that let an account write on a read-only instance: READ_ONLY ADMIN directly; SUPER
 * and SET USER by defining a stored routine that runs as moco-agent (measured: a DEFINER='moco-agent'@'%'
 * procedure writes on a read_only server for whoever may call it). Only moco-agent may hold them.
 */
export const MARIADB_FENCE_BREAKING: readonly string[] = ['READ_ONLY ADMIN', 'SUPER', 'SET USER'];

const WRITABLE_PRIVS = [
  'ALTER', 'ALTER ROUTINE', 'CREATE', 'CREATE ROLE', 'CREATE ROUTINE', 'CREATE TEMPORARY TABLES', 'CREATE USER',
  'CREATE VIEW', 'DELETE', 'DROP', 'DROP ROLE', 'EVENT', 'EXECUTE', 'INDEX', 'INSERT', 'LOCK TABLES', 'PROCESS',
  'REFERENCES', 'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SELECT', 'SHOW DATABASES', 'SHOW VIEW', 'TRIGGER', 'UPDATE',
];

export const USERS: UserSpec[] = [
  {
    name: 'moco-admin', password: 'ADMIN_PASSWORD',
    mysql: { privileges: ['ALL'], grantOption: true, proxy: true },
    mariadb: { global: 'ALL', except: MARIADB_FENCE_BREAKING, grantOption: true },
  },
  {
    name: 'moco-agent', password: 'AGENT_PASSWORD',
    mysql: { privileges: ['BINLOG_ADMIN', 'CLONE_ADMIN', 'RELOAD', 'REPLICATION CLIENT', 'SELECT', 'SERVICE_CONNECTION_ADMIN', 'SYSTEM_VARIABLES_ADMIN', 'REPLICATION_SLAVE_ADMIN', 'CONNECTION_ADMIN', 'PROCESS', 'SHUTDOWN', 'BACKUP_ADMIN', 'SUPER'] },
    // The operator's own account: the only one that may flip read_only and write on a read-only instance.
    mariadb: { global: 'ALL', grantOption: true },
  },
  {
    name: 'moco-repl', password: 'REPLICATION_PASSWORD',
    mysql: { privileges: ['REPLICATION CLIENT', 'REPLICATION SLAVE'] },
    mariadb: { global: ['REPLICATION SLAVE', 'BINLOG MONITOR', 'SLAVE MONITOR'] },
  },
  {
    name: 'moco-clone-donor', password: 'CLONE_DONOR_PASSWORD',
    mysql: { privileges: ['BACKUP_ADMIN', 'SERVICE_CONNECTION_ADMIN'] },
    // What mariadb-backup needs on the donor (measured): RELOAD, PROCESS, BINLOG MONITOR; SLAVE MONITOR for --slave-info.
    mariadb: { global: ['RELOAD', 'PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR', 'CONNECTION ADMIN'] },
  },
  {
    name: 'moco-exporter', password: 'EXPORTER_PASSWORD',
    mysql: { privileges: ['PROCESS', 'REPLICATION CLIENT', 'SELECT'] },
    mariadb: { global: ['PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR', 'SELECT'] },
  },
  {
    name: 'moco-backup', password: 'BACKUP_PASSWORD',
    mysql: { privileges: ['BACKUP_ADMIN', 'EVENT', 'RELOAD', 'SELECT', 'SHOW VIEW', 'TRIGGER', 'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SERVICE_CONNECTION_ADMIN'] },
    mariadb: { global: ['EVENT', 'RELOAD', 'SELECT', 'SHOW VIEW', 'TRIGGER', 'LOCK TABLES', 'PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR', 'REPLICATION SLAVE'] },
  },
  {
    name: 'moco-readonly', password: 'READONLY_PASSWORD',
    mysql: { privileges: ['PROCESS', 'REPLICATION CLIENT', 'REPLICATION SLAVE', 'SELECT', 'SHOW DATABASES', 'SHOW VIEW'] },
    mariadb: { global: ['PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR', 'REPLICATION SLAVE', 'SELECT', 'SHOW DATABASES', 'SHOW VIEW'] },
  },
  {
    name: 'moco-writable', password: 'WRITABLE_PASSWORD',
    mysql: {
      privileges: WRITABLE_PRIVS, grantOption: true,
      revokeOnMysql: ['CREATE', 'CREATE ROUTINE', 'CREATE TEMPORARY TABLES', 'CREATE VIEW', 'DELETE', 'DROP', 'EVENT', 'EXECUTE', 'INDEX', 'INSERT', 'LOCK TABLES', 'REFERENCES', 'TRIGGER', 'UPDATE'],
    },
    // No partial revokes on MariaDB: only the seed's privileges that modify no table are global; the data
    // privileges (all of them, DELETE HISTORY included, so that GRANT ALL ON db.* TO ... works) are granted on
    // every database by the pattern `%`, and the exact `mysql` entry, more specific, leaves it read-only there.
    mariadb: {
      global: ['PROCESS', 'BINLOG MONITOR', 'SLAVE MONITOR', 'REPLICATION SLAVE', 'SHOW DATABASES', 'CREATE USER'],
      grantOption: true,
      databases: [
        { db: '%', privileges: 'ALL', grantOption: true },
        { db: 'mysql', privileges: ['SELECT', 'SHOW VIEW'] },
      ],
    },
  },
];

/** The account name in SQL: `'<name>'@'%'`. */
export function sqlAccount(name: string): string {
  return `${sqlString(name)}@'%'`;
}

/** Quotes an identifier (a database pattern, a table) with backticks. */
export function sqlIdent(s: string): string {
  return `\`${s.replace(/`/g, '``')}\``;
}

/** The mysql_native_password hash of `password`, as mysql.global_priv stores it ('*' and 40 upper-case hex digits). */
export function nativePasswordHash(password: string): string {
  const once = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(once).digest('hex').toUpperCase()}`;
}

/** The statements granting a MariaDB account its privileges (the account exists and holds none). */
export function mariadbGrantStatements(name: string, p: MariadbPrivileges): string[] {
  const who = sqlAccount(name);
  const opt = (g: boolean | undefined): string => (g ? ' WITH GRANT OPTION' : '');
  const out: string[] = [];
  if (p.global === 'ALL') {
    out.push(`GRANT ALL PRIVILEGES ON *.* TO ${who}${opt(p.grantOption)}`);
    if (p.except && p.except.length > 0) out.push(`REVOKE ${p.except.join(', ')} ON *.* FROM ${who}`);
  } else {
    out.push(`GRANT ${p.global.length > 0 ? p.global.join(', ') : 'USAGE'} ON *.* TO ${who}${opt(p.grantOption)}`);
  }
  for (const d of p.databases ?? []) {
    const privs = d.privileges === 'ALL' ? 'ALL PRIVILEGES' : d.privileges.join(', ');
    out.push(`GRANT ${privs} ON ${sqlIdent(d.db)}.* TO ${who}${opt(d.grantOption)}`);
  }
  return out;
}

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
    const who = sqlAccount(u.name);
    out.push(`CREATE USER IF NOT EXISTS ${who} IDENTIFIED BY ${sqlString(passwords[u.password])};`);
    if (flavor === 'mariadb') {
      out.push(...mariadbGrantStatements(u.name, u.mariadb).map((sql) => `${sql};`));
      continue;
    }
    out.push(`GRANT ${u.mysql.privileges.join(', ')} ON *.* TO ${who}${u.mysql.grantOption ? ' WITH GRANT OPTION' : ''};`);
    if (u.mysql.proxy) out.push(`GRANT PROXY ON ''@'' TO ${who} WITH GRANT OPTION;`);
    if (u.mysql.revokeOnMysql) out.push(`REVOKE ${u.mysql.revokeOnMysql.join(', ')} ON mysql.* FROM ${who};`);
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

/** The accounts handed to users (`moco mysql -u`, `moco credential -u`), with the password each one has. */
export const PASSWORD_KEY_OF: Record<'moco-readonly' | 'moco-writable' | 'moco-admin', PasswordKey> = {
  'moco-readonly': 'READONLY_PASSWORD',
  'moco-writable': 'WRITABLE_PASSWORD',
  'moco-admin': 'ADMIN_PASSWORD',
};
