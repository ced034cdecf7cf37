/**
 * Logging: one pino root logger made by the entry point in cmd/, `child({ component })` below it. Messages are
 * constant; data goes in fields, errors under `err`. Anything that looks like a secret is redacted.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'password', '*.password', '*.*.password', 'donorPassword', '*.donorPassword',
  'secretAccessKey', '*.secretAccessKey', 'passwords', '*.passwords', 'key', '*.key',
];

/** Creates the root logger. `level` defaults to `info`; `MOCO_LOG_LEVEL` overrides it. */
export function createLogger(options: { name: string; level?: string; destination?: NodeJS.WritableStream }): Logger {
  const level = options.level ?? process.env.MOCO_LOG_LEVEL ?? 'info';
  return pino(
    { name: options.name, level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } },
    (options.destination ?? process.stderr) as pino.DestinationStream,
  );
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
