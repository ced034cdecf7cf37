/**
 * The commands `moco` and `kubectl moco` share, written once against the platform-neutral ClusterClient
 * (src/platform/client.ts): status, get, events, switchover, mysql, credential, stop/start clustering and
 * reconciliation, read-only. A CliPlatform says which options every command takes (`--dir`; `-n`, `--kubeconfig`)
 * and makes the client from them.
 */
import type { ParseArgsConfig } from 'node:util';
import type { ClientUser, ClusterClient } from '../platform/client.ts';
import { CliError, parseCommand, usageError, type Io } from './common.ts';
import { formatEvents, formatList, formatStatus } from './status.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CliPlatform {
  /** The command's name in messages and hints: `moco` or `kubectl moco`. */
  readonly self: string;
  /** Options every command takes. */
  readonly options: Options;
  /** The client for the values of those options. */
  client(values: Record<string, unknown>): ClusterClient;
}

/** Parses `argv`, makes the client, resolves the cluster a command names (positional 0). */
async function target(p: CliPlatform, argv: string[], command: string, options: Options = {}) {
  const parsed = parseCommand(argv, { ...p.options, ...options }, command);
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const client = p.client(values);
  return { client, values, positionals: parsed.positionals };
}

const USERS: ClientUser[] = ['moco-readonly', 'moco-writable', 'moco-admin'];

/** Accepts `moco-readonly` and the short form `readonly` (as kubectl moco does). */
export function clientUser(u: string | undefined): ClientUser {
  const user = u === undefined ? 'moco-readonly' : u.startsWith('moco-') ? u : `moco-${u}`;
  if (!USERS.includes(user as ClientUser)) throw usageError(`invalid user "${u}"; use one of ${USERS.join(', ')}`);
  return user as ClientUser;
}

/** `status [NAME] [-o json]`: one cluster in detail; with several clusters and no NAME, the list. */
export async function status(p: CliPlatform, argv: string[], io: Io): Promise<number> {
  const { client, values, positionals } = await target(p, argv, 'status', { output: { type: 'string', short: 'o' } });
  if (values.output !== undefined && values.output !== 'json') throw usageError(`status: -o ${values.output}: only json is supported`);
  if (positionals[0] === undefined && (await client.list()).length > 1) return get(p, argv, io);
  const name = await client.resolve(positionals[0]);
  const view = await client.view(name, { live: true });
  io.out(values.output === 'json' ? JSON.stringify(view, null, 2) : formatStatus(view, await client.events(name), client.self));
  return 0;
}

/** `get [NAME] [-o json]`: kubectl get mysqlcluster's columns, every cluster (or the one named). */
export async function get(p: CliPlatform, argv: string[], io: Io): Promise<number> {
  const { client, values, positionals } = await target(p, argv, 'get', { output: { type: 'string', short: 'o' } });
  if (values.output !== undefined && values.output !== 'json') throw usageError(`get: -o ${values.output}: only json is supported`);
  const names = positionals[0] !== undefined ? [await client.resolve(positionals[0])] : await client.list();
  if (names.length === 0) {
    io.out(`no clusters in ${client.where}`);
    return 0;
  }
  const all = await Promise.all(names.map((n) => client.view(n)));
  io.out(values.output === 'json' ? JSON.stringify(all, null, 2) : formatList(all));
  return 0;
}

/** `events [NAME]`: every event of the cluster, oldest first. */
export async function events(p: CliPlatform, argv: string[], io: Io): Promise<number> {
  const { client, positionals } = await target(p, argv, 'events');
  io.out(formatEvents(await client.events(await client.resolve(positionals[0]))));
  return 0;
}

/** `switchover NAME [--no-wait] [--timeout S]`: waits until the new primary takes writes. */
export async function switchover(p: CliPlatform, argv: string[], io: Io): Promise<number> {
  const { client, values, positionals } = await target(p, argv, 'switchover', { 'no-wait': { type: 'boolean' }, timeout: { type: 'string', default: '120' } });
  const name = await client.resolve(positionals[0]);
  const view = await client.view(name);
  const timeoutSec = Number(values.timeout);
  if (!(timeoutSec > 0)) throw usageError(`--timeout ${String(values.timeout)}: give seconds, e.g. 120`);
  if (view.replicas === 1) throw usageError('single-instance cluster is not able to switch');
  if (view.offline) throw usageError('offline cluster is not able to switch');
  if (!view.clusteringActive) {
    throw usageError(`clustering of ${name} is stopped, so nothing would switch; run ${client.self} start clustering ${name} first`);
  }
  const before = view.status.currentPrimaryIndex;
  const started = Date.now();
  await client.requestSwitchover(name);
  if (values['no-wait']) {
    io.out(`switchover of ${name} requested (the primary is instance ${before})`);
    return 0;
  }
  for (;;) {
    const now = await client.view(name);
    const available = now.status.conditions.some((c) => c.type === 'Available' && c.status === 'True');
    const primary = now.instances[now.status.currentPrimaryIndex];
    // Its role published too: the primary endpoint (the Service's selector on Kubernetes) routes to it only then.
    if (now.status.currentPrimaryIndex !== before && available && primary?.ready && primary.role === 'primary') {
      io.out(`switched the primary of ${name} from instance ${before} to instance ${now.status.currentPrimaryIndex} in ${((Date.now() - started) / 1000).toFixed(2)} s`);
      return 0;
    }
    if (Date.now() - started > timeoutSec * 1000) {
      throw new CliError(`the switchover did not finish within ${timeoutSec} s; the request stays until it does ` +
        `(see ${client.self} status ${name} and ${client.self} events ${name})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `credential [-u USER] [--format plain|mycnf] NAME`. */
export async function credential(p: CliPlatform, argv: string[], io: Io): Promise<number> {
  const { client, values, positionals } = await target(p, argv, 'credential', {
    user: { type: 'string', short: 'u' }, 'mysql-user': { type: 'string' }, format: { type: 'string', default: 'plain' },
  });
  const user = clientUser((values.user ?? values['mysql-user']) as string | undefined);
  if (values.format !== 'plain' && values.format !== 'mycnf') throw usageError(`credential: --format ${String(values.format)}: use plain or mycnf`);
  const pw = await client.credential(await client.resolve(positionals[0]), user);
  io.out(values.format === 'plain' ? pw : `[client]\nuser=${user}\npassword="${pw}"`);
  return 0;
}

/**
 * `mysql [-it] [-u USER] [--index I] NAME [-- ARGS]`: the mysql client as USER against the primary or instance I.
 * `-i` passes standard input, `-t` asks for a terminal (kubectl exec's meaning; locally the client always shares
 * this terminal).
 */
export async function mysql(p: CliPlatform, argv: string[]): Promise<number> {
  const sep = argv.indexOf('--');
  const { client, values, positionals } = await target(p, sep < 0 ? argv : argv.slice(0, sep), 'mysql', {
    user: { type: 'string', short: 'u' }, 'mysql-user': { type: 'string' }, index: { type: 'string' },
    stdin: { type: 'boolean', short: 'i' }, tty: { type: 'boolean', short: 't' },
  });
  const user = clientUser((values.user ?? values['mysql-user']) as string | undefined);
  const index = values.index === undefined ? undefined : Number(values.index);
  if (index !== undefined && !(Number.isInteger(index) && index >= 0)) throw usageError(`--index ${String(values.index)}: give an instance index`);
  const name = await client.resolve(positionals[0]);
  return client.mysql(name, {
    user, ...(index !== undefined ? { index } : {}), args: sep < 0 ? [] : argv.slice(sep + 1), stdin: !!values.stdin, tty: !!values.tty,
  });
}

/** `stop|start clustering|reconciliation NAME`, with the seed's messages. */
export async function stopStart(p: CliPlatform, action: 'stop' | 'start', argv: string[], io: Io): Promise<number> {
  const what = argv[0];
  if (what !== 'clustering' && what !== 'reconciliation') throw usageError(`${action}: say what to ${action}: clustering or reconciliation`);
  const { client, positionals } = await target(p, argv.slice(1), `${action} ${what}`);
  const name = await client.resolve(positionals[0]);
  const view = await client.view(name);
  const changed = await client.setStopped(name, what, action === 'stop');
  if (!changed) io.out(action === 'stop' ? `The ${what} is already stopped.` : `The ${what} is already running.`);
  else io.out(`${action === 'stop' ? 'stopped' : 'started'} ${what} of MySQLCluster "${view.namespace}/${name}"`);
  return 0;
}

/**
 * `read-only NAME`: the seed's "Set to Read Only" workflow in one command that works on both flavors. On MySQL the
 * seed's statement (`SET GLOBAL super_read_only=1` as moco-admin) works as well; on MariaDB no account handed to
 * users may set read_only, so the agents do it. Clustering must be stopped first, as the seed says, or the
 * coordinator would make the primary writable again; `start clustering` leaves read-only mode.
 */
export async function readOnly(p: CliPlatform, argv: string[], io: Io): Promise<number> {
  const { client, positionals } = await target(p, argv, 'read-only');
  const name = await client.resolve(positionals[0]);
  const view = await client.view(name);
  if (view.clusteringActive) {
    throw usageError(`clustering of ${name} is running, and the coordinator keeps the primary writable; ` +
      `run ${client.self} stop clustering ${name} first, then this command; nothing was changed`);
  }
  const failures = await client.setReadOnly(name);
  for (const i of view.instances) if (!failures.some((f) => f.index === i.index)) io.out(`instance ${i.index}: read-only`);
  if (failures.length > 0) {
    throw new CliError(`could not make every instance read-only:\n  ${failures.map((f) => `instance ${f.index}: ${f.error}`).join('\n  ')}\n` +
      '(an instance that is down stays read-only when it starts: instances always start read-only)');
  }
  const variable = await client.readOnlyVariable(name);
  io.out(`cluster ${name} is read-only for every user account.
  check:  ${client.self} mysql -it ${name} -- -e "SELECT @@${variable}"
  leave:  ${client.self} start clustering ${name}   (the coordinator makes the primary writable again)`);
  return 0;
}
