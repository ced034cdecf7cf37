/** Shared pieces of the `moco` CLI: errors with exit codes, finding the cluster a command is about, output. */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ClusterDir, defaultStateDir, listClusters } from '../platform/local/state.ts';

/** An error the CLI prints as `moco: <message>` and exits with `exitCode` (2: bad usage or input, 1: failure). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, 2);

export interface Io {
  /** A line (a newline is added when missing). */
  out(text: string): void;
  err(text: string): void;
  /** Text as it is (log contents). */
  write(text: string): void;
}

export const stdio: Io = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  write: (t) => process.stdout.write(t),
};

/** parseArgs with `--dir` on every command; unknown flags become usage errors naming the flag. */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options: { dir: { type: 'string' }, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    const flag = /'(-[^']*)'/.exec(e.message)?.[1];
    const what = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag ? `unknown option ${flag}`
      : e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag ? `option ${flag} needs a value` : e.message;
    throw usageError(`${command}: ${what} (see moco ${command.split(' ')[0]} --help)`);
  }
}

/** The --dir flag to repeat in hints: empty when DIR is the default. */
export const dirFlag = (dir: string): string => (path.resolve(dir) === path.resolve(process.env.MOCO_DIR ?? '.moco') ? '' : ` --dir ${dir}`);

export function stateDir(flag: string | undefined): string {
  return flag ?? defaultStateDir();
}

/**
 * The cluster a command names; NAME may be left out when the state directory holds exactly one cluster.
 * Throws a CliError that lists what exists when it cannot tell.
 */
export async function resolveCluster(dir: string, name: string | undefined): Promise<ClusterDir> {
  const names = await listClusters(dir);
  if (name !== undefined) {
    if (!names.includes(name)) {
      throw usageError(`no cluster named "${name}" in ${dir}` +
        (names.length ? ` (clusters there: ${names.join(', ')})` : ' (it holds no cluster; create one with `moco up`)'));
    }
    return new ClusterDir(dir, name);
  }
  if (names.length === 1) return new ClusterDir(dir, names[0] as string);
  if (names.length === 0) throw usageError(`${dir} holds no cluster; create one with \`moco up\` (or pass --dir)`);
  throw usageError(`${dir} holds several clusters (${names.join(', ')}); name one`);
}

/** The users `moco mysql` and `moco credential` accept, with the password file of each. */
export const CLIENT_USERS: Record<string, string> = {
  'moco-readonly': 'READONLY_PASSWORD',
  'moco-writable': 'WRITABLE_PASSWORD',
  'moco-admin': 'ADMIN_PASSWORD',
};

/** Accepts `moco-readonly` and the short form `readonly`. */
export function clientUser(u: string | undefined): { user: string; passwordKey: string } {
  const user = u === undefined ? 'moco-readonly' : u.startsWith('moco-') ? u : `moco-${u}`;
  const key = CLIENT_USERS[user];
  if (!key) throw usageError(`invalid user "${u}"; use one of ${Object.keys(CLIENT_USERS).join(', ')}`);
  return { user, passwordKey: key };
}
