/**
 * my.cnf for one instance, by the seed system's rules (MOCO's pkg/mycnf) for MySQL
 * 8.4 and MariaDB 10.11. Pure and deterministic: the same input gives the same text, byte for byte, so a
 * hash of it can name the config. The caller writes the file.
 *
 * `[mysqld]` is built in layers, lowest first: flavor defaults, the `small` profile, the user's settings,
 * then the constants, which always win. A key replaces every lower key with the same base name (see
 * {@link baseName}), so `innodb_numa_interleave` replaces `loose_innodb_numa_interleave` and a constant
 * `read_only` removes a user's `skip_read_only`.
 */
import { invalidArgument } from './errors.ts';
import {
  DROPPED_USER_BASES,
  DURABILITY_DEFAULTS,
  MARIADB_CONSTANTS,
  MARIADB_DEFAULTS,
  MARIADB_SMALL_DEFAULTS,
  MYSQL_CLIENT_SECTION,
  MYSQL_CONSTANTS,
  MYSQL_DEFAULTS,
  MYSQLX_PORT,
  SMALL_DEFAULTS,
  type Settings,
} from './mycnf-defaults.ts';

/** The server family: MySQL 8.4 (`mysqld`) or MariaDB 10.11 (`mariadbd`). */
export type Flavor = 'mysql' | 'mariadb';

/**
 * `production`: the seed's sizing (one instance per Pod). `small`: several instances on one machine (local
 * clusters, tests): small caches, loopback only, no X protocol.
 */
export type Profile = 'production' | 'small';

/** Absolute paths of one instance's files. */
export interface InstancePaths {
  dataDir: string;
  /** The UNIX socket; at most 107 bytes (the kernel's `sun_path` limit). */
  socket: string;
  pidFile: string;
  errorLog: string;
  slowLog: string;
  /** `tmpdir` and `innodb_tmpdir` (defaults: the user may point them elsewhere). */
  tmpDir: string;
}

/** Everything {@link generateMyCnf} needs. Ports are TCP ports (1..65535). */
export interface MyCnfInput {
  flavor: Flavor;
  /** Default `production`. */
  profile?: Profile;
  /**
   * The user's settings (a ConfigMap's data). Keys may use `-` or `_`. `_include` is inserted verbatim right
   * after the `[mysqld]` header. `log_bin` and `log_error` in any form are dropped.
   */
  userConf?: Record<string, string>;
  /** The container's memory request, else its limit, in bytes; undefined when neither is set. */
  memoryBytes?: number;
  paths: InstancePaths;
  /** The client and replication port. */
  port: number;
  /** MySQL only: `admin_port`, with `admin_address` = `adminAddress` or `127.0.0.1`. */
  adminPort?: number;
  /** MySQL only, and only with `adminPort`. */
  adminAddress?: string;
  /** Default `0.0.0.0` for `production`, `127.0.0.1` for `small`. */
  bindAddress?: string;
  /** 1..4294967295, unique in the cluster. */
  serverId: number;
  /** `report_host` (with `report_port` = `port`), so the primary's replica list names this instance. */
  reportHost?: string;
  /** mysqld's `user` option: required when the server is started as OS root. */
  osUser?: string;
  /** When set, the file ends with `!includedir <includeDir>`. */
  includeDir?: string;
}

/** The smallest and the no-memory-given `innodb_buffer_pool_size`: 128 MiB. */
export const MIN_BUFFER_POOL_BYTES = 134_217_728;

const MIB = 1_048_576;
const INCLUDE_KEY = '_include';
const KEY_PATTERN = /^[A-Za-z0-9_.]+$/;
const MAX_SOCKET_BYTES = 107;

/**
 * The seed's `innodb_buffer_pool_size` for a container with `memoryBytes` of memory: 70% of it
 * (`floor(mem / 100) * 70`), rounded down to a whole MiB, at least {@link MIN_BUFFER_POOL_BYTES}; that
 * minimum when `memoryBytes` is undefined or 0. Examples: 100 MiB gives 134217728, 1000 MiB gives 734003200.
 * @throws MocoError INVALID_ARGUMENT when `memoryBytes` is negative or not a finite number.
 */
export function bufferPoolSize(memoryBytes: number | undefined): number {
  if (memoryBytes === undefined || memoryBytes === 0) return MIN_BUFFER_POOL_BYTES;
  if (!Number.isFinite(memoryBytes) || memoryBytes < 0) {
    throw invalidArgument(`memory must be a non-negative number of bytes, got ${memoryBytes}`);
  }
  const size = Math.floor(Math.floor(memoryBytes / 100) * 70 / MIB) * MIB;
  return Math.max(size, MIN_BUFFER_POOL_BYTES);
}

const QUANTITY = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)|[eE]([+-]?\d{1,3}))?$/;
const SUFFIX: Readonly<Record<string, bigint>> = {
  Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n,
  k: 10n ** 3n, M: 10n ** 6n, G: 10n ** 9n, T: 10n ** 12n, P: 10n ** 15n, E: 10n ** 18n,
};

/**
 * A Kubernetes memory quantity in bytes: a plain or decimal number with an optional binary (`Ki`..`Ei`) or
 * decimal (`k`, `M`..`E`) suffix or exponent (`129e6`). Fractions round up, as Kubernetes does:
 * `'0.5Gi'` is 536870912. A number is taken as bytes. Exact (integer arithmetic, no float error).
 * @throws MocoError INVALID_ARGUMENT naming the value for anything else: negative, empty, sub-byte suffixes
 * (`m`, `u`, `n`), whitespace, or more than `Number.MAX_SAFE_INTEGER` bytes.
 */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q) || q < 0 || Math.ceil(q) > Number.MAX_SAFE_INTEGER) {
      throw invalidArgument(`invalid memory quantity ${q}: expected a non-negative number of bytes`);
    }
    return Math.ceil(q);
  }
  const m = QUANTITY.exec(q);
  if (m === null) {
    const hint = /\dm$/.test(q) ? " ('m' means milli; did you mean 'M' or 'Mi'?)" : '';
    throw invalidArgument(`invalid memory quantity ${JSON.stringify(q)}: expected e.g. 512Mi, 1Gi, 1G or 129e6${hint}`);
  }
  const [, mantissa = '', suffix, exponent] = m;
  const [whole = '', fraction = ''] = mantissa.split('.');
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let denominator = 10n ** BigInt(fraction.length);
  if (suffix !== undefined) numerator *= SUFFIX[suffix] ?? 1n;
  if (exponent !== undefined) {
    const e = Number(exponent);
    if (e >= 0) numerator *= 10n ** BigInt(e);
    else denominator *= 10n ** BigInt(-e);
  }
  const bytes = (numerator + denominator - 1n) / denominator;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(`memory quantity ${JSON.stringify(q)} is too large`);
  }
  return Number(bytes);
}

/**
 * The name a key replaces by: without `loose_`, then without one `skip_`, `disable_` or `enable_` (these
 * set the same boolean option, so `skip_read_only` and `read_only` are one setting).
 */
export function baseName(key: string): string {
  return key.replace(/^loose_/, '').replace(/^(?:skip|disable|enable)_/, '');
}

/**
 * The my.cnf text for one instance: `[client]`, `[mysql]`, `[mysqld]` in that (sorted) order, keys sorted,
 * `key = value` lines, a blank line after each section, then `!includedir` when asked.
 * @throws MocoError INVALID_ARGUMENT for a bad flavor, profile, port, server id, empty path or option name,
 * a value with a line break, a socket path over 107 bytes, admin settings on MariaDB, or two user keys for
 * one setting.
 */
export function generateMyCnf(input: MyCnfInput): string {
  checkInput(input);
  const profile = input.profile ?? 'production';
  const { settings: user, include } = userSettings(input.userConf ?? {});
  const mysqld = new Map<string, string>();
  layer(mysqld, Object.entries(defaults(input)));
  if (profile === 'small') {
    layer(mysqld, Object.entries(SMALL_DEFAULTS));
    if (input.flavor === 'mariadb') layer(mysqld, Object.entries(MARIADB_SMALL_DEFAULTS));
  }
  layer(mysqld, user);
  layer(mysqld, Object.entries(constants(input, profile)));

  const client = new Map(Object.entries({
    port: String(input.port),
    socket: input.paths.socket,
    loose_default_character_set: 'utf8mb4',
  }));
  let text = section('client', client) + section('mysql', new Map(Object.entries(MYSQL_CLIENT_SECTION)));
  text += section('mysqld', mysqld, include);
  if (input.includeDir !== undefined) text += `!includedir ${checkValue('includeDir', input.includeDir)}\n`;
  return text;
}

function defaults(input: MyCnfInput): Settings {
  return {
    ...(input.flavor === 'mysql' ? MYSQL_DEFAULTS : MARIADB_DEFAULTS),
    ...DURABILITY_DEFAULTS,
    tmpdir: input.paths.tmpDir,
    innodb_tmpdir: input.paths.tmpDir,
    innodb_buffer_pool_size: String(bufferPoolSize(input.memoryBytes)),
  };
}

function constants(input: MyCnfInput, profile: Profile): Settings {
  const { paths } = input;
  const common: Record<string, string> = {
    port: String(input.port),
    socket: paths.socket,
    datadir: paths.dataDir,
    pid_file: paths.pidFile,
    log_error: paths.errorLog,
    slow_query_log_file: paths.slowLog,
    server_id: String(input.serverId),
    bind_address: input.bindAddress ?? (profile === 'small' ? '127.0.0.1' : '0.0.0.0'),
  };
  if (input.reportHost !== undefined) {
    common.report_host = input.reportHost;
    common.report_port = String(input.port);
  }
  if (input.osUser !== undefined) common.user = input.osUser;
  if (input.flavor === 'mariadb') return { ...MARIADB_CONSTANTS, ...common };

  // The X protocol would clash between instances on one machine.
  const mysql: Record<string, string> = profile === 'small' ? { mysqlx: 'OFF' } : { mysqlx_port: String(MYSQLX_PORT) };
  if (input.adminPort !== undefined) {
    mysql.admin_port = String(input.adminPort);
    mysql.admin_address = input.adminAddress ?? '127.0.0.1';
  }
  return { ...MYSQL_CONSTANTS, ...mysql, ...common };
}

function layer(target: Map<string, string>, settings: Iterable<[string, string]>): void {
  for (const [key, value] of settings) {
    const base = baseName(key);
    for (const existing of [...target.keys()]) {
      if (baseName(existing) === base) target.delete(existing);
    }
    target.set(key, value);
  }
}

function userSettings(conf: Record<string, string>): { settings: Map<string, string>; include: string | undefined } {
  const settings = new Map<string, string>();
  const byBase = new Map<string, string>();
  let include: string | undefined;
  for (const [rawKey, value] of Object.entries(conf)) {
    if (typeof value !== 'string') {
      throw invalidArgument(`my.cnf option ${JSON.stringify(rawKey)}: the value must be a string`);
    }
    const key = rawKey.replaceAll('-', '_');
    if (key === INCLUDE_KEY) {
      include = value;
      continue;
    }
    if (!KEY_PATTERN.test(key)) {
      throw invalidArgument(`bad my.cnf option name ${JSON.stringify(rawKey)}: use letters, digits, '-', '_' and '.'`);
    }
    checkValue(rawKey, value);
    const base = baseName(key);
    if (DROPPED_USER_BASES.has(base)) continue;
    const other = byBase.get(base);
    if (other !== undefined && !(other === key && settings.get(key) === value)) {
      const names = `${JSON.stringify(other)} and ${JSON.stringify(key)}`;
      throw invalidArgument(`my.cnf options ${names} set the same thing: keep one`);
    }
    byBase.set(base, key);
    settings.set(key, value);
  }
  return { settings, include };
}

function section(name: string, settings: Map<string, string>, include?: string): string {
  let text = `[${name}]\n`;
  if (include !== undefined && include !== '') {
    text += include.endsWith('\n') ? include : `${include}\n`;
    // An included group header would capture every key below; go back to this section.
    if (/^\s*\[/m.test(include)) text += `[${name}]\n`;
  }
  for (const key of [...settings.keys()].sort()) {
    text += `${key} = ${checkValue(key, settings.get(key) ?? '')}\n`;
  }
  return `${text}\n`;
}

function checkValue(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw invalidArgument(`my.cnf value of ${JSON.stringify(name)} must be one line`);
  return value;
}

function checkInput(input: MyCnfInput): void {
  checkPort('port', input.port);
  if (!Number.isInteger(input.serverId) || input.serverId < 1 || input.serverId > 4_294_967_295) {
    throw invalidArgument(`serverId must be an integer in 1..4294967295, got ${input.serverId}`);
  }
  if (input.flavor !== 'mysql' && input.flavor !== 'mariadb') {
    throw invalidArgument(`unknown flavor ${JSON.stringify(input.flavor)}: use 'mysql' or 'mariadb'`);
  }
  if (input.profile !== undefined && input.profile !== 'production' && input.profile !== 'small') {
    throw invalidArgument(`unknown profile ${JSON.stringify(input.profile)}: use 'production' or 'small'`);
  }
  for (const [name, path] of Object.entries(input.paths)) {
    if (typeof path !== 'string' || path === '') throw invalidArgument(`paths.${name} must be a non-empty path`);
  }
  if (input.flavor === 'mariadb' && (input.adminPort !== undefined || input.adminAddress !== undefined)) {
    throw invalidArgument('adminPort and adminAddress are MySQL only: MariaDB has no admin port');
  }
  if (input.adminPort !== undefined) checkPort('adminPort', input.adminPort);
  else if (input.adminAddress !== undefined) throw invalidArgument('adminAddress needs adminPort');
  if (Buffer.byteLength(input.paths.socket) > MAX_SOCKET_BYTES) {
    throw invalidArgument(`socket path ${JSON.stringify(input.paths.socket)} is longer than ${MAX_SOCKET_BYTES} bytes`);
  }
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw invalidArgument(`${name} must be an integer in 1..65535, got ${port}`);
  }
}
