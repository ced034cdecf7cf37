/** Shared pieces of the `moco` CLI: errors with exit codes, finding the cluster a command is about, output. */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { defaultStateDir } from '../platform/local/state.ts';

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

/** parseArgs; unknown flags become usage errors naming the flag. */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
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

/** The option every local command takes: the state directory. */
export const DIR_OPTION = { dir: { type: 'string' } } as const;
