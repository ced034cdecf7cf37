/**
 * The agent's only way to reach its mysqld: a small mysql2 pool over the unix socket, under the agent's own
 * account. Long or cancellable statements run on a connection of their own; aborting them kills the
 * statement on the server (KILL QUERY) instead of leaving it running.
 */
import mysql from 'mysql2/promise';
import { MocoError } from '../shared/errors.ts';
import { isQueryInterrupted, isUnreachable } from './mysql-errors.ts';

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /** Fail with MYSQLD_UNAVAILABLE when no answer comes within this many ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What flavor adapters need from a database connection. A fake of this interface serves unit tests. */
export interface Db {
  /** Runs one statement; `params` are interpolated client-side (`?` placeholders). */
  query<T extends Row = Row>(sql: string, params?: unknown[], options?: QueryOptions): Promise<T[]>;
}

export interface MysqlDbOptions {
  socketPath: string;
  user: string;
  password: string;
  connectTimeoutMs?: number;
  /** Default per-statement timeout. */
  timeoutMs?: number;
}

/** A {@link Db} backed by a mysql2 pool. */
export class MysqlDb implements Db {
  private readonly pool: mysql.Pool;
  private readonly options: MysqlDbOptions;

  constructor(options: MysqlDbOptions) {
    this.options = options;
    this.pool = mysql.createPool({
      socketPath: options.socketPath,
      user: options.user,
      password: options.password,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      connectionLimit: 6,
      maxIdle: 6,
      idleTimeout: 30_000,
      supportBigNumbers: true,
      bigNumberStrings: false,
      dateStrings: true,
      multipleStatements: false,
    });
  }

  async query<T extends Row = Row>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<T[]> {
    if (options.signal) return this.queryCancellable<T>(sql, params, options);
    const timeout = options.timeoutMs ?? this.options.timeoutMs;
    // mysql2's own timeout covers the statement only; the race also bounds getting a connection, so a hung
    // mysqld is reported within `timeout` even when the pool has to connect anew.
    let timer: NodeJS.Timeout | undefined;
    const bound = timeout === undefined ? undefined : new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MocoError('MYSQLD_UNAVAILABLE', `mysqld did not answer within ${timeout} ms`)), timeout);
    });
    try {
      const q = this.pool.query({ sql, values: params, ...(timeout ? { timeout } : {}) });
      const [rows] = bound ? await Promise.race([q, bound]) : await q;
      return (Array.isArray(rows) ? rows : [rows]) as T[];
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

  /** Opens a connection outside the pool (for statements that outlive it, like CLONE INSTANCE). */
  async connect(): Promise<mysql.Connection> {
    return mysql.createConnection({
      socketPath: this.options.socketPath,
      user: this.options.user,
      password: this.options.password,
      connectTimeout: this.options.connectTimeoutMs ?? 2000,
      supportBigNumbers: true,
      dateStrings: true,
    });
  }

  async close(): Promise<void> {
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
