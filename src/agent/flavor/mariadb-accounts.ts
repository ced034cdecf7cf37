/**
 * Re-asserting the project's accounts on MariaDB: read what the server holds (information_schema and the grant
 * tables), compare it with {@link USERS}, and bring it back with the fewest statements. Reading and planning
 * are separate and the plan is pure, so that the statements are unit-tested without a server.
 *
 * What is re-asserted:
 * - every `moco-*'@'%'` account exists, has the password from its Secret (mysql_native_password), is not
 *   locked or expired, and holds exactly its privileges: missing ones granted, extra ones revoked, at every
 *   level (global, database, table and column, routine, proxy). Roles are left alone: creating a role grants
 *   it to its creator, so moco-writable and moco-admin hold the roles they create;
 * - no other account or role holds READ_ONLY ADMIN, SUPER or SET USER (each lets it write on a read-only
 *   replica), user-created ones included.
 * Reported, not changed: stored objects that run as moco-agent, and accounts and roles other than moco-admin and
 * moco-agent that may modify the `mysql` schema (docs/users.md says how they can come about).
 *
 * Every statement runs as `SET STATEMENT sql_log_bin=0 FOR ...`: it writes no binary log, so it creates no GTID
 * (an errant transaction on a replica) and each instance repairs only itself. Statements that change nothing
 * are never sent, so a second run right after the first sends none (idempotent).
 */
import type { Db, Row, Statement } from '../db.ts';
import {
  MARIADB_DATABASE_PRIVILEGES, MARIADB_FENCE_BREAKING, MARIADB_GLOBAL_PRIVILEGES, USERS, nativePasswordHash, sqlAccount,
  sqlIdent, sqlString, type MariadbPrivileges, type Passwords,
} from '../../shared/accounts.ts';
import { str } from './common.ts';
import type { AccountReassertResult } from './flavor.ts';

/** Privileges on `mysql` that modify it (reported when an account other than moco-admin or moco-agent holds one). */
const MODIFYING = ['INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'INDEX', 'DELETE HISTORY', 'CREATE ROUTINE',
  'ALTER ROUTINE', 'CREATE VIEW'];
/** The accounts allowed to modify `mysql` (mariadb.sys owns the mysql.user view and may delete through it). */
const MYSQL_ADMINS = ["'moco-admin'@'%'", "'moco-agent'@'%'", "'mariadb.sys'@'localhost'"];

const STATEMENT_TIMEOUT_MS = 10_000;
const NAMES = USERS.map((u) => u.name);
const GRANTEES = NAMES.map((n) => `'${n}'@'%'`);
const list = (values: readonly string[]): string => values.map(() => '?').join(', ');
const quoted = (values: readonly string[]): string => values.map((v) => sqlString(v)).join(', ');

/** Everything the plan needs, read in one round trip (constant, so its text is formatted once). */
export const ACCOUNT_READ: readonly Statement[] = [
  {
    sql: "SELECT User AS user, JSON_VALUE(Priv, '$.plugin') AS plugin, JSON_VALUE(Priv, '$.authentication_string') AS auth, " +
      "JSON_VALUE(Priv, '$.account_locked') AS locked, JSON_VALUE(Priv, '$.password_last_changed') AS changed " +
      `FROM mysql.global_priv WHERE Host = '%' AND User IN (${list(NAMES)})`,
    params: NAMES,
  },
  {
    sql: 'SELECT GRANTEE AS grantee, PRIVILEGE_TYPE AS priv, IS_GRANTABLE AS grantable FROM information_schema.USER_PRIVILEGES ' +
      `WHERE GRANTEE IN (${list(GRANTEES)})`,
    params: GRANTEES,
  },
  {
    sql: 'SELECT GRANTEE AS grantee, TABLE_SCHEMA AS db, PRIVILEGE_TYPE AS priv, IS_GRANTABLE AS grantable ' +
      `FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE IN (${list(GRANTEES)})`,
    params: GRANTEES,
  },
  {
    sql: 'SELECT GRANTEE AS grantee, TABLE_SCHEMA AS db, TABLE_NAME AS tbl, IS_GRANTABLE AS grantable FROM information_schema.TABLE_PRIVILEGES ' +
      `WHERE GRANTEE IN (${list(GRANTEES)}) UNION SELECT GRANTEE, TABLE_SCHEMA, TABLE_NAME, IS_GRANTABLE ` +
      `FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE IN (${list(GRANTEES)})`,
    params: [...GRANTEES, ...GRANTEES],
  },
  {
    sql: 'SELECT User AS user, Db AS db, Routine_name AS name, Routine_type AS type, Proc_priv AS privs FROM mysql.procs_priv ' +
      `WHERE Host = '%' AND User IN (${list(NAMES)})`,
    params: NAMES,
  },
  {
    sql: `SELECT User AS user, Proxied_user AS proxied_user, Proxied_host AS proxied_host FROM mysql.proxies_priv WHERE Host = '%' AND User IN (${list(NAMES)})`,
    params: NAMES,
  },
  {
    // Any account or role (user-created included) that holds a privilege only moco-agent may hold.
    sql: "SELECT g.User AS user, g.Host AS host, JSON_VALUE(g.Priv, '$.is_role') AS is_role, u.PRIVILEGE_TYPE AS priv " +
      'FROM information_schema.USER_PRIVILEGES u JOIN mysql.global_priv g ' +
      "ON u.GRANTEE = CONCAT('''', g.User, '''@''', g.Host, '''') " +
      `WHERE u.PRIVILEGE_TYPE IN (${quoted(MARIADB_FENCE_BREAKING)})`,
  },
  {
    sql: "SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_SCHEMA, '.', ROUTINE_NAME) AS what FROM information_schema.ROUTINES WHERE DEFINER = 'moco-agent@%' " +
      "UNION ALL SELECT CONCAT('view ', TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.VIEWS WHERE DEFINER = 'moco-agent@%' " +
      "UNION ALL SELECT CONCAT('trigger ', TRIGGER_SCHEMA, '.', TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE DEFINER = 'moco-agent@%' " +
      "UNION ALL SELECT CONCAT('event ', EVENT_SCHEMA, '.', EVENT_NAME) FROM information_schema.EVENTS WHERE DEFINER = 'moco-agent@%'",
  },
  {
    // Who may modify `mysql`: globally, on one of its tables, or through the database entry MariaDB uses for
    // it: the exact `mysql` entry when there is one, else the wildcard entries that match it (LIKE has the same
    // wildcards and escape as grant patterns).
    sql: `SELECT GRANTEE AS grantee, 'global' AS kind, '' AS db FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN (${quoted(MODIFYING)}) ` +
      `UNION SELECT GRANTEE, 'table', '' FROM information_schema.TABLE_PRIVILEGES WHERE TABLE_SCHEMA = 'mysql' AND PRIVILEGE_TYPE IN (${quoted(MODIFYING)}) ` +
      "UNION SELECT GRANTEE, 'exact', '' FROM information_schema.SCHEMA_PRIVILEGES WHERE TABLE_SCHEMA = 'mysql' " +
      "UNION SELECT GRANTEE, 'database', TABLE_SCHEMA FROM information_schema.SCHEMA_PRIVILEGES WHERE 'mysql' LIKE TABLE_SCHEMA " +
      `AND PRIVILEGE_TYPE IN (${quoted(MODIFYING)})`,
  },
];

interface Held {
  privileges: Set<string>;
  grantable: boolean;
}

/** What the server holds, per managed account (by name) and for the other accounts. */
export interface MariadbAccountState {
  accounts: Map<string, { plugin: string; auth: string; locked: boolean; expired: boolean }>;
  global: Map<string, Held>;
  databases: Map<string, Map<string, Held>>;
  tables: Map<string, { db: string; table: string; grantable: boolean }[]>;
  routines: Map<string, { db: string; name: string; type: string; grantable: boolean }[]>;
  proxies: Map<string, { user: string; host: string }[]>;
  /** Other accounts and roles holding fence-breaking privileges (moco-agent is left out). */
  fenceBreakers: { user: string; host: string; isRole: boolean; privileges: string[] }[];
  definerObjects: string[];
  mysqlWriters: string[];
}

const nameOf = (grantee: string): string | undefined => NAMES[GRANTEES.indexOf(grantee)];
const yes = (v: unknown): boolean => /^(yes|true|1)$/i.test(str(v));

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

function held(m: Map<string, Held>, key: string): Held {
  let h = m.get(key);
  if (!h) {
    h = { privileges: new Set(), grantable: false };
    m.set(key, h);
  }
  return h;
}

/** Parses the rows of {@link ACCOUNT_READ}. */
export function parseAccountState(sets: Row[][]): MariadbAccountState {
  const [accounts = [], globals = [], dbs = [], tables = [], routines = [], proxies = [], breakers = [], definers = [], writers = []] = sets;
  const st: MariadbAccountState = {
    accounts: new Map(), global: new Map(), databases: new Map(), tables: new Map(), routines: new Map(),
    proxies: new Map(), fenceBreakers: [], definerObjects: definers.map((r) => str(r.what)), mysqlWriters: [],
  };
  for (const r of accounts) {
    st.accounts.set(str(r.user), {
      plugin: str(r.plugin), auth: str(r.auth), locked: yes(r.locked),
      // password_last_changed 0 is how MariaDB marks an expired password.
      expired: str(r.changed) === '0',
    });
  }
  for (const r of globals) {
    const name = nameOf(str(r.grantee));
    if (name === undefined) continue;
    const h = held(st.global, name);
    if (str(r.priv) !== 'USAGE') h.privileges.add(str(r.priv));
    h.grantable ||= yes(r.grantable);
  }
  for (const r of dbs) {
    const name = nameOf(str(r.grantee));
    if (name === undefined) continue;
    let m = st.databases.get(name);
    if (!m) st.databases.set(name, (m = new Map()));
    const h = held(m, str(r.db));
    if (str(r.priv) !== 'USAGE') h.privileges.add(str(r.priv));
    h.grantable ||= yes(r.grantable);
  }
  for (const r of tables) {
    const name = nameOf(str(r.grantee));
    if (name === undefined) continue;
    const db = str(r.db);
    const table = str(r.tbl);
    const known = st.tables.get(name)?.find((t) => t.db === db && t.table === table);
    if (known) known.grantable ||= yes(r.grantable);
    else push(st.tables, name, { db, table, grantable: yes(r.grantable) });
  }
  for (const r of routines) {
    push(st.routines, str(r.user), { db: str(r.db), name: str(r.name), type: str(r.type), grantable: /\bGrant\b/i.test(str(r.privs)) });
  }
  for (const r of proxies) push(st.proxies, str(r.user), { user: str(r.proxied_user), host: str(r.proxied_host) });
  for (const r of breakers) {
    const user = str(r.user);
    const host = str(r.host);
    if (user === 'moco-agent' && host === '%') continue;
    if (NAMES.includes(user) && host === '%') continue; // the managed accounts are made exact below
    const known = st.fenceBreakers.find((b) => b.user === user && b.host === host);
    if (known) known.privileges.push(str(r.priv));
    else st.fenceBreakers.push({ user, host, isRole: yes(r.is_role), privileges: [str(r.priv)] });
  }
  const sources = new Map<string, { global: boolean; exact: boolean; exactWrites: boolean; wildcardWrites: boolean }>();
  for (const r of writers) {
    const grantee = str(r.grantee);
    const s = sources.get(grantee) ?? { global: false, exact: false, exactWrites: false, wildcardWrites: false };
    const kind = str(r.kind);
    if (kind === 'global' || kind === 'table') s.global = true;
    else if (kind === 'exact') s.exact = true;
    else if (str(r.db) === 'mysql') s.exactWrites = true;
    else s.wildcardWrites = true;
    sources.set(grantee, s);
  }
  for (const [grantee, s] of sources) {
    if (MYSQL_ADMINS.includes(grantee)) continue;
    // An exact `mysql` entry is the one MariaDB uses for it: the wildcard entries then do not count.
    if (s.global || s.exactWrites || (!s.exact && s.wildcardWrites)) st.mysqlWriters.push(grantee);
  }
  st.mysqlWriters.sort();
  return st;
}

/** One statement of a repair and what it changes (for the log; never a secret). */
export interface Repair {
  account: string;
  change: string;
  sql: string;
  params?: unknown[];
}

const minus = (a: Iterable<string>, b: Iterable<string>): string[] => {
  const drop = new Set(b);
  return [...a].filter((x) => !drop.has(x));
};

/** The repairs of one managed account's global privileges (`has`: what it holds now). */
function globalRepairs(name: string, spec: MariadbPrivileges, has: Held): Repair[] {
  const who = sqlAccount(name);
  const out: Repair[] = [];
  const want = spec.global === 'ALL' ? minus(MARIADB_GLOBAL_PRIVILEGES, spec.except ?? []) : spec.global;
  const missing = minus(want, has.privileges);
  // ALL: privileges a newer server adds beyond the list are not extras; only the excepted ones are.
  const extra = spec.global === 'ALL' ? [...has.privileges].filter((p) => (spec.except ?? []).includes(p)) : minus(has.privileges, want);
  const grantOption = spec.grantOption ?? false;
  if (missing.length > 0 || (grantOption && !has.grantable)) {
    out.push({
      account: name, change: missing.length > 0 ? `granted ${missing.join(', ')} on *.*` : 'granted GRANT OPTION on *.*',
      sql: `GRANT ${missing.length > 0 ? missing.join(', ') : 'USAGE'} ON *.* TO ${who}${grantOption ? ' WITH GRANT OPTION' : ''}`,
    });
  }
  if (extra.length > 0) out.push({ account: name, change: `revoked ${extra.join(', ')} on *.*`, sql: `REVOKE ${extra.join(', ')} ON *.* FROM ${who}` });
  if (!grantOption && has.grantable) out.push({ account: name, change: 'revoked GRANT OPTION on *.*', sql: `REVOKE GRANT OPTION ON *.* FROM ${who}` });
  return out;
}

/** The repairs of one managed account's database-level privileges. */
function databaseRepairs(name: string, spec: MariadbPrivileges, has: Map<string, Held>): Repair[] {
  const who = sqlAccount(name);
  const out: Repair[] = [];
  const wanted = spec.databases ?? [];
  for (const [db, h] of has) {
    if (wanted.some((w) => w.db === db)) continue;
    const on = `${sqlIdent(db)}.*`;
    if (h.privileges.size > 0) out.push({ account: name, change: `revoked everything on ${on}`, sql: `REVOKE ALL PRIVILEGES ON ${on} FROM ${who}` });
    if (h.grantable) out.push({ account: name, change: `revoked GRANT OPTION on ${on}`, sql: `REVOKE GRANT OPTION ON ${on} FROM ${who}` });
  }
  for (const w of wanted) {
    const h = has.get(w.db) ?? { privileges: new Set<string>(), grantable: false };
    const on = `${sqlIdent(w.db)}.*`;
    const want = w.privileges === 'ALL' ? MARIADB_DATABASE_PRIVILEGES : w.privileges;
    const missing = minus(want, h.privileges);
    const extra = w.privileges === 'ALL' ? [] : minus(h.privileges, want);
    const grantOption = w.grantOption ?? false;
    if (missing.length > 0 || (grantOption && !h.grantable)) {
      const privs = missing.length === 0 ? 'USAGE' : w.privileges === 'ALL' && missing.length === want.length ? 'ALL PRIVILEGES' : missing.join(', ');
      out.push({
        account: name, change: missing.length > 0 ? `granted ${missing.join(', ')} on ${on}` : `granted GRANT OPTION on ${on}`,
        sql: `GRANT ${privs} ON ${on} TO ${who}${grantOption ? ' WITH GRANT OPTION' : ''}`,
      });
    }
    if (extra.length > 0) out.push({ account: name, change: `revoked ${extra.join(', ')} on ${on}`, sql: `REVOKE ${extra.join(', ')} ON ${on} FROM ${who}` });
    if (!grantOption && h.grantable) out.push({ account: name, change: `revoked GRANT OPTION on ${on}`, sql: `REVOKE GRANT OPTION ON ${on} FROM ${who}` });
  }
  return out;
}

/**
 * The statements that bring the server to the accounts of {@link USERS} with `passwords`, in order: moco-agent
 * first (the others are granted by it), then the other managed accounts, then the fence-breaking privileges of
 * every other account. Empty when nothing differs.
 */
export function planAccountRepairs(st: MariadbAccountState, passwords: Passwords): Repair[] {
  const out: Repair[] = [];
  const users = [...USERS].sort((a, b) => Number(b.name === 'moco-agent') - Number(a.name === 'moco-agent'));
  for (const u of users) {
    const name = u.name;
    const who = sqlAccount(name);
    const password = passwords[u.password];
    const acc = st.accounts.get(name);
    const fresh = acc === undefined;
    if (!acc) {
      out.push({ account: name, change: 'created (it was missing)', sql: `CREATE USER ${who} IDENTIFIED BY ?`, params: [password] });
    } else {
      if (acc.plugin !== 'mysql_native_password' || acc.auth !== nativePasswordHash(password) || acc.expired) {
        out.push({ account: name, change: 'password reset to the one in its Secret', sql: `ALTER USER ${who} IDENTIFIED BY ?`, params: [password] });
      }
      if (acc.locked) out.push({ account: name, change: 'unlocked', sql: `ALTER USER ${who} ACCOUNT UNLOCK` });
    }
    const none: Held = { privileges: new Set(), grantable: false };
    out.push(...globalRepairs(name, u.mariadb, fresh ? none : st.global.get(name) ?? none));
    out.push(...databaseRepairs(name, u.mariadb, fresh ? new Map() : st.databases.get(name) ?? new Map()));
    if (!fresh) {
      for (const t of st.tables.get(name) ?? []) {
        const on = `${sqlIdent(t.db)}.${sqlIdent(t.table)}`;
        out.push({ account: name, change: `revoked everything on ${on}`, sql: `REVOKE ALL PRIVILEGES ON ${on} FROM ${who}` });
        if (t.grantable) out.push({ account: name, change: `revoked GRANT OPTION on ${on}`, sql: `REVOKE GRANT OPTION ON ${on} FROM ${who}` });
      }
      for (const r of st.routines.get(name) ?? []) {
        const on = `${r.type} ${sqlIdent(r.db)}.${sqlIdent(r.name)}`;
        out.push({ account: name, change: `revoked everything on ${on}`, sql: `REVOKE ALL PRIVILEGES ON ${on} FROM ${who}` });
        if (r.grantable) out.push({ account: name, change: `revoked GRANT OPTION on ${on}`, sql: `REVOKE GRANT OPTION ON ${on} FROM ${who}` });
      }
    }
    for (const p of st.proxies.get(name) ?? []) {
      const proxied = `${sqlString(p.user)}@${sqlString(p.host)}`;
      out.push({ account: name, change: `revoked PROXY on ${proxied}`, sql: `REVOKE PROXY ON ${proxied} FROM ${who}` });
    }
  }
  for (const b of st.fenceBreakers) {
    const target = b.isRole ? sqlIdent(b.user) : `${sqlString(b.user)}@${sqlString(b.host)}`;
    out.push({
      account: b.isRole ? `role ${b.user}` : `${b.user}@${b.host}`, change: `revoked ${b.privileges.join(', ')} on *.*`,
      sql: `REVOKE ${b.privileges.join(', ')} ON *.* FROM ${target}`,
    });
  }
  return out;
}

/**
 * Reads the accounts, repairs what differs (each statement without binary logging) and reports. A statement
 * that fails is reported in `failures` and the others still run; the caller retries later.
 */
export async function reassertMariadbAccounts(db: Db, passwords: Passwords): Promise<AccountReassertResult> {
  // Bounded, so that a hung mysqld fails the run (retried later) instead of holding it.
  const options = { timeoutMs: STATEMENT_TIMEOUT_MS };
  let st = parseAccountState(await db.readBatch(ACCOUNT_READ, options));
  const changes: string[] = [];
  const failures: { change: string; error: string }[] = [];
  for (const r of planAccountRepairs(st, passwords)) {
    const change = `${r.account}: ${r.change}`;
    try {
      await db.query(`SET STATEMENT sql_log_bin = 0 FOR ${r.sql}`, r.params ?? [], options);
      changes.push(change);
    } catch (err) {
      failures.push({ change, error: (err as Error).message });
    }
  }
  // What is reported is what remains after the repairs.
  if (changes.length > 0) st = parseAccountState(await db.readBatch(ACCOUNT_READ, options));
  return { supported: true, changes, failures, definerObjects: st.definerObjects, mysqlWriters: st.mysqlWriters };
}
