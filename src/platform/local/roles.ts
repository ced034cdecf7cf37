/**
 * Published roles: the local equivalent of the `moco.cybozu.com/role` Pod labels. The coordinator writes them;
 * the endpoints process routes by them (and by each agent's readiness). Written atomically (temp file + rename).
 */
import { promises as fs } from 'node:fs';
import { writeJsonAtomic } from './state.ts';

import type { Role } from '../../api/types.ts';

export type { Role };

export interface RoleEntry {
  index: number;
  role: Role;
  /** mysqld's TCP port on 127.0.0.1. */
  mysqlPort: number;
  /** The agent's HTTP port (GET /readyz). */
  httpPort: number;
}

export interface RolesFile {
  /** Increases with every write. */
  generation: number;
  updatedAt: string;
  instances: RoleEntry[];
}

export async function readRoles(file: string): Promise<RolesFile | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as RolesFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}


export async function writeRoles(file: string, instances: RoleEntry[]): Promise<RolesFile> {
  const prev = await readRoles(file).catch(() => undefined);
  const next: RolesFile = { generation: (prev?.generation ?? 0) + 1, updatedAt: new Date().toISOString(), instances };
  await writeJsonAtomic(file, next);
  return next;
}
