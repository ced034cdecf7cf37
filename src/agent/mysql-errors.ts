/** MySQL/MariaDB server error numbers the agent reacts to, one named predicate each. */

function errnoOf(err: unknown): number | undefined {
  const n = (err as { errno?: unknown } | null)?.errno;
  return typeof n === 'number' ? n : undefined;
}

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** 1094 ER_NO_SUCH_THREAD: KILL of a connection that has already gone. */
export const isNoSuchThread = (err: unknown): boolean => errnoOf(err) === 1094;
/** 1045 ER_ACCESS_DENIED_ERROR: wrong user or password. */
export const isAccessDenied = (err: unknown): boolean => errnoOf(err) === 1045;
/** 1290 ER_OPTION_PREVENTS_STATEMENT: refused by read_only / super_read_only. */
export const isReadOnlyRefusal = (err: unknown): boolean => errnoOf(err) === 1290;
/** 1205 ER_LOCK_WAIT_TIMEOUT: a lock was not granted within lock_wait_timeout (or innodb_lock_wait_timeout). */
export const isLockWaitTimeout = (err: unknown): boolean => errnoOf(err) === 1205;
/** 1317 ER_QUERY_INTERRUPTED: our own KILL QUERY ended the statement. */
export const isQueryInterrupted = (err: unknown): boolean => errnoOf(err) === 1317;
/** 3707 ER_CLONE_RESTART (MySQL): clone finished but the server cannot restart itself; the supervisor does. */
export const isCloneRestart = (err: unknown): boolean => errnoOf(err) === 3707;
/** 1193 ER_UNKNOWN_SYSTEM_VARIABLE: a variable this flavor or version does not have. */
export const isUnknownVariable = (err: unknown): boolean => errnoOf(err) === 1193;

/** True when the error means mysqld did not answer (not running, hung, or gone mid-query). */
export function isUnreachable(err: unknown): boolean {
  const code = codeOf(err);
  if (code === undefined) return false;
  return [
    'ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST',
    'PROTOCOL_SEQUENCE_TIMEOUT', 'POOL_CLOSED', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR',
  ].includes(code) || errnoOf(err) === 1053 /* ER_SERVER_SHUTDOWN */;
}
