/** KillConnections: the seed system's exclusions (its own accounts and system threads), the same SQL on both flavors. */
import type { Db } from './db.ts';
import { isNoSuchThread } from './mysql-errors.ts';

/** The project's own accounts: never killed. moco-readonly and moco-writable are user accounts and are. */
export const SYSTEM_USERS = ['moco-admin', 'moco-agent', 'moco-repl', 'moco-clone-donor', 'moco-exporter', 'moco-backup'];

export interface ProcessRow {
  ID: number;
  USER: string;
  HOST: string;
  COMMAND: string;
}

/** Pure: which processlist rows are user connections to kill. */
export function connectionsToKill(rows: ProcessRow[], ownId: number): number[] {
  return rows
    .filter((r) => Number(r.ID) !== ownId)
    .filter((r) => !SYSTEM_USERS.includes(r.USER))
    .filter((r) => r.USER !== 'system user' && r.USER !== 'event_scheduler' && r.COMMAND !== 'Daemon')
    // Local socket connections: the agent itself, exporters and operators on the host.
    .filter((r) => r.HOST !== 'localhost')
    .map((r) => Number(r.ID));
}

/** Kills every user connection; returns how many were killed. A connection that went meanwhile is fine. */
export async function killUserConnections(db: Db): Promise<number> {
  const own = await db.query<{ id: number }>('SELECT CONNECTION_ID() AS id');
  const rows = await db.query<ProcessRow & Record<string, unknown>>(
    'SELECT ID, USER, HOST, COMMAND FROM information_schema.PROCESSLIST');
  let killed = 0;
  for (const id of connectionsToKill(rows, Number(own[0]?.id ?? -1))) {
    try {
      await db.query('KILL CONNECTION ?', [id]);
      killed++;
    } catch (err) {
      if (!isNoSuchThread(err) && !isNoSuchThread((err as { cause?: unknown }).cause)) throw err;
    }
  }
  return killed;
}
