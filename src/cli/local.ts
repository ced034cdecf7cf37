/** What the local-only commands (up, down, reinit, logs, backup) share: the state directory and its clusters. */
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { LocalClient } from '../platform/local/client.ts';
import type { ClusterDir } from '../platform/local/state.ts';
import { DIR_OPTION, parseCommand, stateDir } from './common.ts';
import type { CliPlatform } from './commands.ts';

/** `moco`'s platform for the shared commands: local clusters under `--dir` (default $MOCO_DIR or ./.moco). */
export const localPlatform: CliPlatform = {
  self: 'moco',
  options: DIR_OPTION,
  client: (values) => new LocalClient(path.resolve(stateDir(values.dir as string | undefined))),
};

/** Parses a local command's arguments (with --dir) and finds the cluster it names (positional 0). */
export async function localTarget(argv: string[], command: string, options: NonNullable<ParseArgsConfig['options']> = {}) {
  const parsed = parseCommand(argv, { ...DIR_OPTION, ...options }, command);
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const client = new LocalClient(path.resolve(stateDir(values.dir as string | undefined)));
  const cd: ClusterDir = client.cluster(await client.resolve(parsed.positionals[0]));
  return { cd, client, values, positionals: parsed.positionals };
}
