/**
 * A hand-written fake of the agent's own {@link Db} interface: it records every statement with its params and
 * options, and answers from a script of (match, answer) rules, first match wins. A string rule matches a
 * statement that starts with it; a RegExp rule matches anywhere. A read (SELECT / SHOW) that no rule answers
 * fails the test, so an adapter cannot silently read something the test did not script; any other statement
 * (SET, STOP, CHANGE ...) answers with no rows, as mysqld does.
 */
import type { Db, QueryOptions, Row, Statement } from '../../../src/agent/db.ts';

export interface Call {
  sql: string;
  params: unknown[];
  options: QueryOptions | undefined;
}

/** Rows, an error to throw, or a function of the parameters (it may answer later, as a slow statement would). */
export type Answer = Row[] | Error | ((params: unknown[]) => Row[] | Promise<Row[]>);

export class FakeDb implements Db {
  readonly calls: Call[] = [];
  /** The statements of each readBatch call (they are in `calls` too). */
  readonly batches: string[][] = [];
  private readonly rules: { match: string | RegExp; answer: Answer }[] = [];

  /** Adds a rule; returns this for chaining. */
  on(match: string | RegExp, answer: Answer): this {
    this.rules.push({ match, answer });
    return this;
  }

  async query<T extends Row = Row>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<T[]> {
    this.calls.push({ sql, params, options });
    const rule = this.rules.find((r) => (typeof r.match === 'string' ? sql.startsWith(r.match) : r.match.test(sql)));
    if (rule === undefined) {
      if (/^\s*(SELECT|SHOW)\b/i.test(sql)) throw new Error(`FakeDb: unscripted read: ${sql}`);
      return [];
    }
    const a = rule.answer;
    if (a instanceof Error) throw a;
    return (typeof a === 'function' ? a(params) : a) as T[];
  }

  /** Answers each statement of the batch as {@link query} would, in order (recorded one by one). */
  async readBatch(statements: readonly Statement[], options?: QueryOptions): Promise<Row[][]> {
    this.batches.push(statements.map((s) => s.sql));
    const out: Row[][] = [];
    for (const s of statements) out.push(await this.query(s.sql, s.params ?? [], options));
    return out;
  }

  /** The statements issued, in order. */
  get statements(): string[] {
    return this.calls.map((c) => c.sql);
  }

  /** The statements that change something (not SELECT / SHOW), with their params. */
  get writes(): [string, unknown[]][] {
    return this.calls.filter((c) => !/^\s*(SELECT|SHOW)\b/i.test(c.sql)).map((c) => [c.sql, c.params]);
  }
}

/**
 * An answer for `SHOW GLOBAL VARIABLES|STATUS WHERE Variable_name IN (?, ...)`: the `{Variable_name, Value}`
 * string rows mysqld sends, only for the names asked for (so the code must ask for what it uses).
 */
export function namedRows(values: Record<string, string>): (params: unknown[]) => Row[] {
  return (params) => params
    .filter((p): p is string => typeof p === 'string' && p in values)
    .map((name) => ({ Variable_name: name, Value: values[name] }));
}

/** A driver-style error with a server error number. */
export function mysqlError(errno: number, message: string): Error {
  return Object.assign(new Error(message), { errno });
}
