/**
 * The agent's configuration: flags (and a few environment variables, as on Kubernetes), validated once at
 * start-up. Durations are strings here and milliseconds after. A bad value is a {@link ConfigError} naming the
 * flag; the entry point exits 2 with it.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../shared/duration.ts';
import { which } from '../shared/tools.ts';

/**
 * Node flags the agent process runs with (the image's ENTRYPOINT, local clusters, the benchmark). A 1 MB
 * semi-space keeps the young generation from growing to 16 MB during start-up and staying resident: about 7 MB
 * less idle RSS, for more but shorter young collections (GetStatus p99 within the noise, docs/benchmarks.md).
 * The clone receiver's worker thread sets its own young generation size.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

export class ConfigError extends Error {
  constructor(readonly flag: string, message: string) {
    super(`--${flag}: ${message}`);
    this.name = 'ConfigError';
  }
}

export interface AgentConfig {
  clusterName: string;
  /** The cluster's namespace: with the name, what every caller's certificate must name (`moco://<namespace>/<name>`). */
  clusterNamespace: string;
  index: number;
  socketPath: string;
  dataDir: string;
  myCnfPath: string;
  grpcAddress: string;
  httpAddress: { host: string; port: number };
  tls: { caCert: string; cert: string; key: string };
  /** How often the certificate files are checked for a rotated set (a Kubernetes Secret updated in place). */
  tlsReloadIntervalMs: number;
  passwordsDir: string | undefined;
  maxDelayMs: number;
  queueingWaitMs: number;
  statusTimeoutMs: number;
  watchIntervalMs: number;
  heartbeatMs: number;
  unreachableMs: number;
  shutdownGraceMs: number;
  /** Re-assert the accounts this often besides at start and after mysqld restarts; 0: only then. */
  accountCheckIntervalMs: number;
  tools: { mariadbBackup: string; mbstream: string };
  logLevel: string;
}

export const AGENT_FLAGS = {
  'cluster-name': { type: 'string' },
  'cluster-namespace': { type: 'string' },
  index: { type: 'string' },
  socket: { type: 'string', default: '/run/mysqld.sock' },
  'data-dir': { type: 'string', default: '/var/lib/mysql/data' },
  mycnf: { type: 'string', default: '/etc/mysql/my.cnf' },
  'grpc-address': { type: 'string', default: '0.0.0.0:9080' },
  'http-address': { type: 'string', default: '0.0.0.0:9081' },
  'tls-ca': { type: 'string', default: '/grpc-cert/ca.crt' },
  'tls-cert': { type: 'string', default: '/grpc-cert/tls.crt' },
  'tls-key': { type: 'string', default: '/grpc-cert/tls.key' },
  'tls-reload-interval': { type: 'string', default: '10s' },
  'passwords-dir': { type: 'string' },
  'max-delay': { type: 'string', default: '60s' },
  'transaction-queueing-wait': { type: 'string', default: '5s' },
  'status-timeout': { type: 'string', default: '2s' },
  'watch-interval': { type: 'string', default: '100ms' },
  'unreachable-after': { type: 'string', default: '800ms' },
  'shutdown-grace': { type: 'string', default: '20s' },
  'account-check-interval': { type: 'string', default: '1m' },
  'mariadb-backup': { type: 'string' },
  mbstream: { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
} as const;

function duration(values: Record<string, unknown>, flag: string, min = 0): number {
  const text = String(values[flag]);
  let ms: number;
  try {
    ms = parseDuration(text, `--${flag}`);
  } catch {
    throw new ConfigError(flag, `"${text}" is not a duration; use for example "30s", "1m" or "250ms"`);
  }
  if (ms < min) throw new ConfigError(flag, `must be at least ${min} ms`);
  return ms;
}

function hostPort(values: Record<string, unknown>, flag: string): { host: string; port: number } {
  const text = String(values[flag]);
  const m = /^(.*):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new ConfigError(flag, `"${text}" is not HOST:PORT (port 0-65535)`);
  return { host: (m[1] as string).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port };
}

/** Parses and validates the agent's flags. `env` supplies CLUSTER_NAME, POD_NAMESPACE and POD_NAME as on Kubernetes. */
export function parseAgentConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, options: AGENT_FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    const m = /'(--?[\w-]+)/.exec((err as Error).message);
    throw new ConfigError(m ? (m[1] as string).replace(/^-+/, '') : 'flags', (err as Error).message);
  }
  const clusterName = String(values['cluster-name'] ?? env.CLUSTER_NAME ?? '');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(clusterName)) {
    throw new ConfigError('cluster-name', `"${clusterName}" is not a valid cluster name (set --cluster-name or CLUSTER_NAME; lowercase letters, digits, '-')`);
  }
  const clusterNamespace = String(values['cluster-namespace'] ?? env.POD_NAMESPACE ?? 'default');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(clusterNamespace) || clusterNamespace.length > 63) {
    throw new ConfigError('cluster-namespace', `"${clusterNamespace}" is not a valid namespace (set --cluster-namespace or POD_NAMESPACE; ` +
      "lowercase letters, digits, '-', at most 63)");
  }
  const indexText = String(values.index ?? env.POD_NAME?.split('-').pop() ?? '');
  if (!/^\d+$/.test(indexText)) {
    throw new ConfigError('index', `"${indexText}" is not an instance index (set --index or POD_NAME ending in -<index>)`);
  }
  for (const f of ['socket', 'data-dir', 'mycnf', 'tls-ca', 'tls-cert', 'tls-key']) {
    if (String(values[f]).trim() === '') throw new ConfigError(f, 'must not be empty');
  }
  if (String(values.socket).length > 107) throw new ConfigError('socket', 'unix socket paths are limited to 107 characters');
  const grpcAddress = hostPort(values, 'grpc-address');
  const tool = (flag: string, name: string): string => {
    const v = values[flag] as string | undefined;
    return v ?? which(name) ?? name;
  };
  const level = String(values['log-level']);
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) {
    throw new ConfigError('log-level', `"${level}" is not one of trace, debug, info, warn, error, fatal, silent`);
  }
  return {
    clusterName,
    clusterNamespace,
    index: Number(indexText),
    socketPath: String(values.socket),
    dataDir: String(values['data-dir']),
    myCnfPath: String(values.mycnf),
    grpcAddress: `${grpcAddress.host.includes(':') ? `[${grpcAddress.host}]` : grpcAddress.host}:${grpcAddress.port}`,
    httpAddress: hostPort(values, 'http-address'),
    tls: { caCert: String(values['tls-ca']), cert: String(values['tls-cert']), key: String(values['tls-key']) },
    tlsReloadIntervalMs: duration(values, 'tls-reload-interval', 100),
    passwordsDir: (values['passwords-dir'] as string | undefined) ?? env.MOCO_PASSWORDS_DIR,
    maxDelayMs: duration(values, 'max-delay'),
    queueingWaitMs: duration(values, 'transaction-queueing-wait'),
    statusTimeoutMs: duration(values, 'status-timeout', 10),
    watchIntervalMs: duration(values, 'watch-interval', 20),
    heartbeatMs: 1000,
    unreachableMs: duration(values, 'unreachable-after', 50),
    shutdownGraceMs: duration(values, 'shutdown-grace'),
    accountCheckIntervalMs: duration(values, 'account-check-interval'),
    tools: { mariadbBackup: tool('mariadb-backup', 'mariadb-backup'), mbstream: tool('mbstream', 'mbstream') },
    logLevel: level,
  };
}
