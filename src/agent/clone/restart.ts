/** Restarting mysqld on new data: ask it to shut down, then wait for whatever runs it to start it again. */
import { MocoError } from '../../shared/errors.ts';
import { sleep } from '../../shared/abort.ts';
import type { Db } from '../db.ts';

/**
 * Waits until mysqld answers again as a process started after `since` (its Uptime is younger). Polls every
 * 50 ms until `timeoutMs` (a failed connection attempt over the socket costs next to nothing).
 */
export async function waitForRestart(db: Db, since: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = since + timeoutMs;
  while (Date.now() < deadline) {
    if (signal.aborted) throw new MocoError('CANCELLED', 'waiting for mysqld to restart was cancelled');
    try {
      const rows = await db.query('SHOW GLOBAL STATUS LIKE ?', ['Uptime'], { timeoutMs: 2000 });
      const uptime = Number(rows[0]?.Value ?? Infinity);
      if (uptime * 1000 < Date.now() - since + 1000) return;
    } catch {
      // not back yet
    }
    await sleep(50, signal);
  }
  throw new MocoError('TIMEOUT',
    `mysqld did not come back within ${Math.round(timeoutMs / 1000)}s after the restart; check that its supervisor ` +
    '(run-mysqld, or the container restart policy) restarts it');
}

/** Asks mysqld to shut down (the server's SHUTDOWN statement) and waits for restart. */
export async function restartMysqld(db: Db, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const since = Date.now();
  try {
    await db.query('SHUTDOWN', [], { timeoutMs: 30_000 });
  } catch {
    // The connection usually drops while the server goes down.
  }
  // The old process may still answer while it shuts down; the Uptime check tells them apart.
  await sleep(50, signal);
  await waitForRestart(db, since, timeoutMs, signal);
}
