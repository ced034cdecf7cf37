/**
 * The agent's only way to reach its mysqld: a small mysql2 pool over the unix socket, under the agent's own
 * account. Long or cancellable statements run on a connection of their own; aborting them kills the
 * statement on the server (KILL QUERY) instead of leaving it running.
 */
import mysql from 'mysql2/promise';
import { MocoError } from '../shared/errors.ts';
import { isQueryInterrupted, isUnreachable } from './mysql-errors.ts';

export type Row = Record<string, unknown>;

/** What mysql2's pool passes to its 'connection' listeners at run time: the callback API's connection. */
interface CallbackConnection {
  query(sql: string, callback: (err: Error | null) => void): unknown;
}

export interface QueryOptions {
  /** Fail with MYSQLD_UNAVAILABLE when no answer comes within this many ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One statement of a {@link Db.readBatch}. */
export interface Statement {
  sql: string;
  params?: unknown[];
}

/** What flavor adapters need from a database connection. A fake of this interface serves unit tests. */
export interface Db {
  /** Runs one statement; `params` are interpolated client-side (`?` placeholders). */
  query<T extends Row = Row>(sql: string, params?: unknown[], options?: QueryOptions): Promise<T[]>;
  /**
   * Runs read-only statements (SELECT, SHOW) in one round trip and returns each one's rows, in order; fails
   * as a whole when one fails. The status read uses it: one mysqld thread woken per read, not one per statement.
   */
  readBatch(statements: readonly Statement[], options?: QueryOptions): Promise<Row[][]>;
}

export interface MysqlDbOptions {
  socketPath: string;
  user: string;
  password: string;
  connectTimeoutMs?: number;
  /** Default per-statement timeout. */
  timeoutMs?: number;
  /**
   * The session's `lock_wait_timeout` on the pool's connections: a statement that waits this long for a metadata
   * or global lock (SET GLOBAL read_only behind a running write) fails with ER_LOCK_WAIT_TIMEOUT instead of waiting
   * for the server's default (a day on MariaDB, a year on MySQL). Unset: the server's default.
   */
  lockWaitTimeoutSeconds?: number;
}

const batchText = new WeakMap<readonly Statement[], string>();

/** A {@link Db} backed by a mysql2 pool, and one connection of its own for status reads. */
export class MysqlDb implements Db {
  private readonly pool: mysql.Pool;
  /**
   * The connection {@link readBatch} uses. It allows multiple statements: what it sends are the adapters' fixed
   * status reads, so nothing from a request can be stacked onto them; every other statement goes through
   * `pool`, which refuses multiple statements. One long-lived connection, not a pool: the agent reads status
   * several times a second, and results taken through mysql2's pool stayed reachable across young-generation
   * collections (about ten times the GC pause per read, measured: docs/benchmarks.md). Concurrent reads queue
   * on it; a read that fails or times out drops it, and the next read connects again.
   */
  private statusConn: Promise<mysql.Connection> | undefined;
  /** The connection {@link connectionGeneration} keeps open, and how many times it was opened. */
  private keptConn: Promise<mysql.Connection> | undefined;
  private keptGeneration = 0;
  private readonly connectionOptions: mysql.ConnectionOptions;
  private readonly options: MysqlDbOptions;

  constructor(options: MysqlDbOptions) {
    this.options = options;
    this.connectionOptions = {
      socketPath: options.socketPath,
      user: options.user,
      password: options.password,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      supportBigNumbers: true,
      bigNumberStrings: false,
      dateStrings: true,
      // No stack captured per statement (Error.captureStackTrace on every query); wrapError names the statement.
      trace: false,
      // The agent never prepares statements: mysql2's default cache preallocates 16000 entries (0.5 MB) per connection.
      maxPreparedStatements: 1,
    };
    this.pool = mysql.createPool({ ...this.connectionOptions, connectionLimit: 6, maxIdle: 6, idleTimeout: 30_000, multipleStatements: false });
    if (options.lockWaitTimeoutSeconds !== undefined) {
      const sql = mysql.format('SET SESSION lock_wait_timeout = ?', [options.lockWaitTimeoutSeconds]);
      // Sent when the pool opens a connection, before the pool hands it out: the connection runs its statements in
      // order, so this one comes first. The event passes mysql2's callback connection (its typings say otherwise).
      // A failure is left to the statements that follow (a broken connection fails them too).
      this.pool.on('connection', (conn) => {
        (conn as unknown as CallbackConnection).query(sql, () => undefined);
      });
    }
  }

  async query<T extends Row = Row>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<T[]> {
    if (options.signal) return this.queryCancellable<T>(sql, params, options);
    const [rows] = await this.run(this.pool, sql, params, options);
    return (Array.isArray(rows) ? rows : [rows]) as T[];
  }

  async readBatch(statements: readonly Statement[], options: QueryOptions = {}): Promise<Row[][]> {
    if (statements.length === 0) return [];
    // The adapters pass the same constant array on every status read: its text is formatted once.
    let sql = batchText.get(statements);
    if (sql === undefined) {
      sql = statements.map((s) => mysql.format(s.sql, (s.params ?? []) as Parameters<typeof mysql.format>[1])).join(';\n');
      batchText.set(statements, sql);
    }
    const conn = this.statusConnection();
    let results: unknown;
    try {
      [results] = await this.run(conn, sql, [], options);
    } catch (err) {
      this.dropStatusConnection(conn);
      throw err;
    }
    // One statement answers with its rows; several with one array of rows per statement.
    const sets = (statements.length === 1 ? [results] : results) as unknown[];
    if (!Array.isArray(sets) || sets.length !== statements.length) {
      throw new MocoError('INTERNAL', `expected ${statements.length} result sets from mysqld, got ${Array.isArray(sets) ? sets.length : 'one'}`);
    }
    return sets.map((rows) => (Array.isArray(rows) ? rows : [rows]) as Row[]);
  }

  private statusConnection(): Promise<mysql.Connection> {
    if (this.statusConn) return this.statusConn;
    const conn = mysql.createConnection({ ...this.connectionOptions, multipleStatements: true });
    this.statusConn = conn;
    conn.then(
      // A connection that breaks while idle (mysqld restarted) is replaced on the next read.
      (c) => c.on('error', () => this.dropStatusConnection(conn)),
      () => this.dropStatusConnection(conn),
    );
    return conn;
  }

  private dropStatusConnection(conn: Promise<mysql.Connection>): void {
    if (this.statusConn === conn) this.statusConn = undefined;
    conn.then((c) => c.destroy(), () => undefined);
  }

  /** One query within the timeout, on `target` (the pool, or a connection once it is open). */
  private async run(target: mysql.Pool | Promise<mysql.Connection>, sql: string, params: unknown[], options: QueryOptions): Promise<[unknown, unknown]> {
    const timeout = options.timeoutMs ?? this.options.timeoutMs;
    // mysql2's own timeout covers the statement only; the race also bounds getting a connection, so a hung
    // mysqld is reported within `timeout` even when a connection has to be opened anew.
    let timer: NodeJS.Timeout | undefined;
    const bound = timeout === undefined ? undefined : new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MocoError('MYSQLD_UNAVAILABLE', `mysqld did not answer within ${timeout} ms`)), timeout);
    });
    try {
      const opts = { sql, values: params, ...(timeout ? { timeout } : {}) };
      const q = target instanceof Promise ? target.then((c) => c.query(opts)) : target.query(opts);
      return bound ? await Promise.race([q, bound]) : await q;
    } catch (err) {
      throw wrapError(err, sql);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** Runs on a dedicated connection; when the signal aborts, the statement is killed on the server. */
  private async queryCancellable<T extends Row>(sql: string, params: unknown[], options: QueryOptions): Promise<T[]> {
    const signal = options.signal as AbortSignal;
    if (signal.aborted) throw new MocoError('CANCELLED', 'the statement was cancelled before it started');
    let conn: mysql.PoolConnection;
    try {
      conn = await this.pool.getConnection();
    } catch (err) {
      throw wrapError(err, sql);
    }
    const threadId = conn.threadId;
    const onAbort = (): void => {
      // Kill from another connection: the one running the statement is busy.
      this.pool.query('KILL QUERY ?', [threadId]).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const [rows] = await conn.query({ sql, values: params });
      return (Array.isArray(rows) ? rows : [rows]) as T[];
    } catch (err) {
      if (signal.aborted || isQueryInterrupted(err)) {
        throw new MocoError('CANCELLED', 'the statement was cancelled', { cause: err });
      }
      throw wrapError(err, sql);
    } finally {
      signal.removeEventListener('abort', onAbort);
      conn.release();
    }
  }

  /**
   * Checks a connection that stays open between calls and returns how many times it had to be opened. A restart
   * of mysqld closes it, so a new number means mysqld restarted (or the connection broke) since the last call:
   * certain, where inferring it from the uptime is not. Rejects (and opens anew next time) when mysqld does not
   * answer within `timeoutMs`.
   */
  async connectionGeneration(timeoutMs: number): Promise<number> {
    if (!this.keptConn) {
      const conn = mysql.createConnection(this.connectionOptions);
      this.keptConn = conn;
      this.keptGeneration++;
      conn.then((c) => c.on('error', () => this.dropKeptConnection(conn)), () => this.dropKeptConnection(conn));
    }
    const conn = this.keptConn;
    const generation = this.keptGeneration;
    try {
      await this.run(conn, 'SELECT 1', [], { timeoutMs });
    } catch (err) {
      this.dropKeptConnection(conn);
      throw err;
    }
    return generation;
  }

  private dropKeptConnection(conn: Promise<mysql.Connection>): void {
    if (this.keptConn === conn) this.keptConn = undefined;
    conn.then((c) => c.destroy(), () => undefined);
  }

  /** Opens a connection outside the pool (for statements that outlive it, like CLONE INSTANCE). */
  async connect(): Promise<mysql.Connection> {
    return mysql.createConnection(this.connectionOptions);
  }

  async close(): Promise<void> {
    if (this.statusConn) this.dropStatusConnection(this.statusConn);
    if (this.keptConn) this.dropKeptConnection(this.keptConn);
    await this.pool.end().catch(() => undefined);
  }
}

/** Wraps a driver error: unreachable servers become MYSQLD_UNAVAILABLE, the rest INTERNAL with the SQL. */
export function wrapError(err: unknown, sql: string): MocoError {
  if (err instanceof MocoError) return err;
  const statement = sql.replace(/IDENTIFIED BY\s+\S+|PASSWORD\s*=\s*\S+/gi, '[redacted]').slice(0, 120);
  if (isUnreachable(err)) {
    return new MocoError('MYSQLD_UNAVAILABLE', `mysqld does not answer (${(err as Error).message})`, {
      cause: err, details: { statement },
    });
  }
  return new MocoError('INTERNAL', `statement failed: ${(err as Error).message}`, { cause: err, details: { statement } });
}
