/**
 * `moco-agent read-only`: makes this agent's mysqld read-only for every user account, from where the agent runs
 * (`kubectl moco read-only NAME` runs it in every Pod's agent container). It connects as `serve` does: over
 * mysqld's unix socket, as moco-agent, with the password from the environment or `--passwords-dir`; then it
 * calls the very method the SetReadOnly RPC calls ({@link Agent.setReadOnly}: MariaDB `read_only`, MySQL
 * `super_read_only`). That statement waits for a global lock, which a running write statement or `LOCK TABLES`
 * holds up; the session's `lock_wait_timeout` bounds the wait, and when it runs out the user connections are
 * ended as the KillConnections RPC ends them ({@link Agent.killConnections}) and the statement is tried once more.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadPasswords } from '../shared/accounts.ts';
import { parseDuration } from '../shared/duration.ts';
import { MocoError, messageOf } from '../shared/errors.ts';
import { silentLogger } from '../shared/logger.ts';
import { Agent } from './agent.ts';
import { AGENT_FLAGS, ConfigError } from './config.ts';
import { MysqlDb } from './db.ts';
import { createAgentMetrics } from './metrics.ts';
import { isAccessDenied, isLockWaitTimeout, isUnreachable } from './mysql-errors.ts';

export const READ_ONLY_FLAGS = {
  socket: AGENT_FLAGS.socket,
  'passwords-dir': AGENT_FLAGS['passwords-dir'],
  'lock-wait-timeout': { type: 'string', default: '10s' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const READ_ONLY_USAGE = `usage: moco-agent read-only [--socket PATH] [--passwords-dir DIR] [--lock-wait-timeout DURATION]

Makes this instance read-only for every user account (MariaDB: SET GLOBAL read_only=1; MySQL: SET GLOBAL
super_read_only=1), as the agent's own account over mysqld's unix socket. When a running write or LOCK TABLES keeps
the statement waiting longer than --lock-wait-timeout, it ends the user connections (not the moco-* accounts'
nor local socket connections, as the coordinator's KillConnections) and tries once more.
\`kubectl moco read-only NAME\` runs it in each Pod's agent container; run \`moco stop clustering NAME\` first, or
the coordinator makes the primary writable again.

flags:
  --socket PATH                 mysqld's unix socket (default ${AGENT_FLAGS.socket.default}, as for serve)
  --passwords-dir DIR           the directory holding the password files (AGENT_PASSWORD is used; default
                                $MOCO_PASSWORDS_DIR); the environment variable AGENT_PASSWORD takes precedence
  --lock-wait-timeout DURATION  how long the statement may wait for its lock before connections are ended,
                                whole seconds (default 10s)

exit status: 0 read-only (made so, or already), 1 failed (the message says why), 2 bad flags or passwords
`;

export interface ReadOnlyConfig {
  socketPath: string;
  passwordsDir: string | undefined;
  lockWaitTimeoutSeconds: number;
}

/** Parses the subcommand's flags; 'help' for --help. A bad flag is a {@link ConfigError} naming it. */
export function parseReadOnlyArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ReadOnlyConfig | 'help' {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, options: READ_ONLY_FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    const m = /'(--?[\w-]+)/.exec((err as Error).message);
    throw new ConfigError(m ? (m[1] as string).replace(/^-+/, '') : 'flags', (err as Error).message);
  }
  if (values.help) return 'help';
  const socketPath = String(values.socket);
  if (socketPath.trim() === '') throw new ConfigError('socket', 'must not be empty');
  if (socketPath.length > 107) throw new ConfigError('socket', 'unix socket paths are limited to 107 characters');
  const text = String(values['lock-wait-timeout']);
  let ms: number;
  try {
    ms = parseDuration(text, '--lock-wait-timeout');
  } catch {
    throw new ConfigError('lock-wait-timeout', `"${text}" is not a duration; use for example "10s" or "1m"`);
  }
  // lock_wait_timeout is whole seconds, at least 1.
  if (ms < 1000 || ms % 1000 !== 0) throw new ConfigError('lock-wait-timeout', `"${text}" must be whole seconds, at least 1s`);
  const passwordsDir = (values['passwords-dir'] as string | undefined) ?? env.MOCO_PASSWORDS_DIR;
  return { socketPath, passwordsDir: passwordsDir === '' ? undefined : passwordsDir, lockWaitTimeoutSeconds: ms / 1000 };
}

/** A failure with the exit status it calls for: 2 for bad flags or passwords (nothing was tried), 1 otherwise. */
export class ReadOnlyError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
    this.name = 'ReadOnlyError';
  }
}

/** The driver's error under a MocoError from the database layer. */
const driverError = (err: unknown): unknown => (err instanceof MocoError && err.cause !== undefined ? err.cause : err);

/** Reads moco-agent's password as `serve` does; says where it came from, for messages. */
async function agentPassword(config: ReadOnlyConfig, env: NodeJS.ProcessEnv): Promise<{ password: string; source: string }> {
  const dir = config.passwordsDir;
  const fromEnv = env.AGENT_PASSWORD !== undefined && env.AGENT_PASSWORD !== '';
  if (dir !== undefined && !fromEnv) {
    const st = await fs.stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw new ReadOnlyError(`--passwords-dir ${dir}: ${st ? 'not a directory' : 'no such directory'}; give the directory that holds ` +
        "the cluster's password files (AGENT_PASSWORD among them): /moco-passwords in a Pod's agent container, " +
        '<state dir>/<cluster>/passwords for a local cluster', 2);
    }
  }
  try {
    const passwords = await loadPasswords(env, dir, ['AGENT_PASSWORD']);
    return { password: passwords.AGENT_PASSWORD, source: fromEnv ? 'the environment variable AGENT_PASSWORD' : path.join(dir as string, 'AGENT_PASSWORD') };
  } catch (err) {
    throw new ReadOnlyError(`${messageOf(err)} (moco-agent's password is needed: the file AGENT_PASSWORD of the cluster's passwords)`, 2);
  }
}

/**
 * Makes the instance read-only; `out` gets one line per outcome. Throws a {@link ReadOnlyError} whose message says
 * what is wrong and what to do.
 */
export async function makeInstanceReadOnly(config: ReadOnlyConfig, out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { password, source } = await agentPassword(config, env);
  const db = new MysqlDb({
    socketPath: config.socketPath, user: 'moco-agent', password,
    lockWaitTimeoutSeconds: config.lockWaitTimeoutSeconds,
    // The statement's own bound is the lock wait; this only catches a mysqld that stopped answering altogether.
    timeoutMs: config.lockWaitTimeoutSeconds * 1000 + 30_000,
  });
  // The agent the RPCs run on, with what setReadOnly and killConnections use: the connection and the flavor.
  // Nothing else of it runs here (no clone, no status stream, no accounts), so the other fields are neutral.
  const agent = new Agent({
    clusterName: 'read-only', index: 0, socketPath: config.socketPath,
    dataDir: AGENT_FLAGS['data-dir'].default, myCnfPath: AGENT_FLAGS.mycnf.default,
    passwords: { agent: password, replication: '', cloneDonor: '' },
    statusTimeoutMs: 5000, maxDelayMs: 0, queueingWaitMs: 0,
    logger: silentLogger(), metrics: createAgentMetrics('read-only', 0, { processMetrics: false }),
  }, db);
  const variable = (): string => (agent.knownFlavor() === 'mariadb' ? 'read_only' : 'super_read_only');
  try {
    let changed: boolean;
    try {
      changed = await agent.setReadOnly();
    } catch (err) {
      if (!isLockWaitTimeout(driverError(err))) throw err;
      const killed = await agent.killConnections();
      out(`SET GLOBAL ${variable()}=1 waited ${config.lockWaitTimeoutSeconds} s for its lock (a running write or LOCK TABLES holds it up); ` +
        `ended ${killed} user connection(s); trying once more`);
      try {
        changed = await agent.setReadOnly();
      } catch (again) {
        if (!isLockWaitTimeout(driverError(again))) throw again;
        throw new ReadOnlyError(`SET GLOBAL ${variable()}=1 still waited ${config.lockWaitTimeoutSeconds} s for its lock after ${killed} user ` +
          'connection(s) were ended, so a session that is not ended holds it up (connections over the local socket and ' +
          'the moco-* accounts are never ended). Find it with SHOW PROCESSLIST (a long write, LOCK TABLES, FLUSH TABLES WITH ' +
          'READ LOCK), end it, and run this again; the instance was not changed', 1);
      }
    }
    // Read back what mysqld now says, not what was sent.
    const st = await agent.readFlavorStatus();
    if (!st.readOnly) {
      throw new ReadOnlyError(`mysqld still reports ${variable()}=0 after SET GLOBAL ${variable()}=1; something made it writable again ` +
        '(is clustering stopped? run `moco stop clustering NAME` or `kubectl moco stop clustering NAME` first)', 1);
    }
    out(changed ? `made read-only (${variable()}=1) for every user account` : `already read-only (${variable()}=1); nothing changed`);
  } catch (err) {
    throw explain(err, config, source);
  } finally {
    await agent.close();
  }
}

/** Turns a failure into a message that says what is wrong and how to fix it. */
function explain(err: unknown, config: ReadOnlyConfig, source: string): ReadOnlyError {
  if (err instanceof ReadOnlyError) return err;
  const cause = driverError(err);
  if (isAccessDenied(cause)) {
    return new ReadOnlyError(`mysqld at ${config.socketPath} refused moco-agent with the password from ${source}: it is not this ` +
      "instance's agent password. Give the passwords of the cluster this mysqld belongs to (--passwords-dir; in a Pod's " +
      'agent container /moco-passwords)', 1);
  }
  if (isUnreachable(cause) || (err instanceof MocoError && err.code === 'MYSQLD_UNAVAILABLE')) {
    return new ReadOnlyError(`cannot reach mysqld through the socket ${config.socketPath} (${messageOf(cause)}): mysqld is not ` +
      'running (an instance always starts read-only) or listens elsewhere: give its socket with --socket', 1);
  }
  return new ReadOnlyError(`could not make the instance read-only: ${messageOf(err)}`, 1);
}
