/**
 * moco-agent: the per-instance daemon and its helper commands. Entry point only: parse, build, start, signals.
 *
 *   moco-agent serve [flags]                  the agent (gRPC + HTTP); see --help
 *   moco-agent init --mycnf F --data-dir D    prepare an empty data directory (idempotent)
 *   moco-agent run-mysqld --data-dir D -- mysqld --defaults-file=F ...
 *                                             swap in a staged data directory, then run mysqld (container command)
 *   moco-agent certs --dir D --cluster-name N create the cluster CA and certificates for local use
 *   moco-agent read-only [--passwords-dir D]  make this instance read-only for every user account (kubectl moco read-only)
 *   moco-agent demo [--dir D] [--port P]      one mysqld with its agent on this machine, until Ctrl-C
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ConfigError, parseAgentConfig, AGENT_FLAGS } from '../src/agent/config.ts';
import { AgentDaemon } from '../src/agent/daemon.ts';
import { createAgentMetrics } from '../src/agent/metrics.ts';
import { PASSWORD_KEYS, loadPasswords } from '../src/shared/accounts.ts';
import { MocoError, messageOf } from '../src/shared/errors.ts';
import { createLogger } from '../src/shared/logger.ts';
import { loadAgentPki } from '../src/agent/tls-reloader.ts';
// The other commands load their modules when they run: the long-lived `serve` process keeps only what it uses
// (the demo alone pulls in the local platform, the backup runner and the S3 SDK).

const USAGE = `usage: moco-agent <command> [flags]

commands:
  serve        run the agent beside a mysqld (flags below)
  init         prepare an empty data directory: --mycnf FILE --data-dir DIR [--passwords-dir DIR]
  run-mysqld   --data-dir DIR -- MYSQLD [ARGS...]: swap in a staged data directory, then run mysqld
  certs        --dir DIR --cluster-name NAME [--cluster-namespace NS]: create the cluster CA and the coordinator,
               agent and backup certificates, naming the cluster (NS defaults to "default")
  read-only    [--socket PATH] [--passwords-dir DIR] [--lock-wait-timeout D]: make this instance read-only for every
               user account (what kubectl moco read-only runs in each Pod; moco-agent read-only --help)
  demo         [--dir DIR] [--port PORT]: run one mysqld with its agent on this machine until Ctrl-C

serve flags (durations like 30s, 1m, 250ms):
${Object.entries(AGENT_FLAGS).map(([k, v]) => `  --${k}${'default' in v ? ` (default ${v.default})` : ''}`).join('\n')}
  passwords: environment variables ADMIN_PASSWORD ... WRITABLE_PASSWORD, or files of those names in --passwords-dir
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`moco-agent: ${message}\n`);
  process.exit(code);
}

async function serve(argv: string[]): Promise<void> {
  let config;
  try {
    config = parseAgentConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) fail(`${err.message}\n(see moco-agent --help)`);
    throw err;
  }
  let passwords;
  try {
    passwords = await loadPasswords(process.env, config.passwordsDir, ['AGENT_PASSWORD', 'REPLICATION_PASSWORD', 'CLONE_DONOR_PASSWORD']);
    loadAgentPki(config.tls, { namespace: config.clusterNamespace, name: config.clusterName });
  } catch (err) {
    fail(messageOf(err));
  }
  const logger = createLogger({ name: 'moco-agent', level: config.logLevel });
  // The agent needs three passwords to work; with all eight it also re-asserts the accounts (docs/users.md).
  const all = PASSWORD_KEYS.every((k) => passwords[k] !== undefined) ? passwords : undefined;
  const daemon = new AgentDaemon({
    ...config,
    passwords: { agent: passwords.AGENT_PASSWORD, replication: passwords.REPLICATION_PASSWORD, cloneDonor: passwords.CLONE_DONOR_PASSWORD },
    ...(all ? { accountPasswords: all } : {}),
    logger,
    metrics: createAgentMetrics(config.clusterName, config.index),
  });
  try {
    await daemon.start();
  } catch (err) {
    logger.fatal({ err }, 'agent failed to start');
    process.exit(1);
  }
  let signals = 0;
  const onSignal = (sig: string): void => {
    signals++;
    logger.info({ signal: sig }, signals === 1 ? 'shutting down' : 'second signal: exiting now');
    if (signals > 1) process.exit(130);
    void daemon.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function init(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { mycnf: { type: 'string' }, 'data-dir': { type: 'string' }, 'passwords-dir': { type: 'string' } } });
  if (!values.mycnf) fail('init: --mycnf is required');
  if (!values['data-dir']) fail('init: --data-dir is required');
  const passwords = await loadPasswords(process.env, values['passwords-dir'] ?? process.env.MOCO_PASSWORDS_DIR);
  const [{ initDataDir }, { requireMysqld }] = await Promise.all([import('../src/agent/init.ts'), import('../src/agent/mysqld.ts')]);
  const log = createLogger({ name: 'moco-init' });
  const done = await initDataDir({ install: requireMysqld(), myCnfPath: values.mycnf, dataDir: values['data-dir'], passwords, log });
  process.stdout.write(done ? `initialised ${values['data-dir']}\n` : `${values['data-dir']} was already initialised; nothing changed\n`);
}

async function runMysqld(argv: string[]): Promise<void> {
  const sep = argv.indexOf('--');
  const { values } = parseArgs({ args: sep < 0 ? argv : argv.slice(0, sep), options: { 'data-dir': { type: 'string' } } });
  const cmd = sep < 0 ? [] : argv.slice(sep + 1);
  if (!values['data-dir']) fail('run-mysqld: --data-dir is required');
  if (cmd.length === 0) fail('run-mysqld: give the mysqld command after --, e.g. -- mysqld --defaults-file=/etc/mysql/my.cnf');
  const { swapStagedData } = await import('../src/agent/datadir.ts');
  if (await swapStagedData(values['data-dir'])) process.stderr.write(`run-mysqld: swapped in the staged data directory\n`);
  const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: 'inherit' });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, sig) => process.exit(code ?? (sig ? 128 : 1)));
}

async function certs(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv, options: { dir: { type: 'string' }, 'cluster-name': { type: 'string' }, 'cluster-namespace': { type: 'string', default: 'default' } },
  });
  if (!values.dir) fail('certs: --dir is required');
  if (!values['cluster-name']) fail('certs: --cluster-name is required (the certificates name their cluster)');
  const { ensureClusterPki } = await import('../src/platform/local/instance.ts');
  const files = await ensureClusterPki(values.dir, { namespace: values['cluster-namespace'], name: values['cluster-name'] });
  process.stdout.write(`CA:          ${files.agent.caCert}\ncoordinator: ${files.coordinator.cert} ${files.coordinator.key}\n` +
    `agent:       ${files.agent.cert} ${files.agent.key}\nbackup:      ${files.backup.cert} ${files.backup.key}\n`);
}

async function readOnly(argv: string[]): Promise<void> {
  const { parseReadOnlyArgs, makeInstanceReadOnly, ReadOnlyError, READ_ONLY_USAGE } = await import('../src/agent/read-only.ts');
  let config;
  try {
    config = parseReadOnlyArgs(argv);
  } catch (err) {
    if (err instanceof ConfigError) fail(`read-only: ${err.message}\n(see moco-agent read-only --help)`);
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(READ_ONLY_USAGE);
    return;
  }
  try {
    await makeInstanceReadOnly(config, (line) => process.stdout.write(`${line}\n`));
  } catch (err) {
    if (err instanceof ReadOnlyError) fail(`read-only: ${err.message}`, err.exitCode);
    throw err;
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve': return serve(rest);
    case 'init': return init(rest);
    case 'run-mysqld': return runMysqld(rest);
    case 'certs': return certs(rest);
    case 'read-only': return readOnly(rest);
    case 'demo': return (await import('./demo.ts')).runDemo(rest);
    case undefined: case '-h': case '--help': case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command "${command}"\n${USAGE}`);
  }
}

main().catch((err: unknown) => {
  fail(messageOf(err), err instanceof MocoError && err.code === 'INVALID_ARGUMENT' ? 2 : 1);
});
