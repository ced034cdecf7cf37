/**
 * A local cluster's state directory: what the Kubernetes API server holds for a cluster (desired spec,
 * status, requests, events, roles) plus the files of its processes. One directory per cluster under the
 * `moco` CLI's --dir:
 *
 *   <dir>/<name>/cluster.json      ports and instances (allocated once)
 *   <dir>/<name>/manifest.yaml     the manifest as last applied (mode 0600: it may hold Secrets); the spec is read
 *                                  from it when needed, so credentials are never copied anywhere else
 *   <dir>/<name>/status.json       MySQLCluster.status and its resourceVersion; each writer (coordinator, backups) patches
 *                                  its own fields under run/status.lock (platform.ts LocalStatusStore)
 *   <dir>/<name>/roles.json        published roles (Pod labels), read by the endpoints process
 *   <dir>/<name>/annotations.json  clustering / reconciliation stopped
 *   <dir>/<name>/requests/switchover   a switchover request (the demote annotation)
 *   <dir>/<name>/events.jsonl      events, one JSON object per line
 *   <dir>/<name>/run/*.pid         coordinator and endpoints PIDs; endpoints.json: their ports
 *   <dir>/<name>/run/coordinator-heartbeat.json  {pid, observedAt}: the coordinator's last observation (heartbeat.ts)
 *   <dir>/<name>/run/*.lock        process-lifetime locks: cli (a command at work), coordinator, endpoints
 *   <dir>/<name>/instances/<i>/    one instance (see instance.ts), run/{supervisor,agent}.pid and instance.lock there
 *   <dir>/<name>/passwords/ pki/   credentials, mode 0600
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterSpec } from '../../api/spec.ts';
import type { ClusterStatus } from '../../api/types.ts';
import { instanceLayout, type InstanceLayout } from './instance.ts';
import { parseManifest } from './manifest.ts';
import { writeFileAtomic } from '../../shared/atomic-file.ts';

export interface InstancePorts {
  index: number;
  mysqlPort: number;
  grpcPort: number;
  httpPort: number;
}

export interface ClusterFile {
  name: string;
  namespace: string;
  createdAt: string;
  primaryPort: number;
  replicaPort: number;
  coordinatorHttpPort: number;
  instances: InstancePorts[];
}

export interface Annotations {
  clusteringStopped?: boolean;
  reconciliationStopped?: boolean;
}

export interface ClusterEvent {
  time: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export function defaultStateDir(): string {
  return path.resolve(process.env.MOCO_DIR ?? '.moco');
}

export class ClusterDir {
  readonly root: string;

  constructor(readonly dir: string, readonly name: string) {
    this.root = path.join(dir, name);
  }

  path(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  get clusterFile(): string { return this.path('cluster.json'); }
  get manifestFile(): string { return this.path('manifest.yaml'); }
  get statusFile(): string { return this.path('status.json'); }
  /** Held while a writer patches status.json (read-modify-write), by any process. */
  get statusLockFile(): string { return this.path('run', 'status.lock'); }
  /** The coordinator's heartbeat (heartbeat.ts). */
  get heartbeatFile(): string { return this.path('run', 'coordinator-heartbeat.json'); }
  get rolesFile(): string { return this.path('roles.json'); }
  get annotationsFile(): string { return this.path('annotations.json'); }
  get switchoverRequestFile(): string { return this.path('requests', 'switchover'); }
  /** `moco backup` asks for a backup ({id}); the coordinator reports progress and the outcome in backupRunFile. */
  get backupRequestFile(): string { return this.path('requests', 'backup'); }
  get backupCancelFile(): string { return this.path('requests', 'backup-cancel'); }
  get backupRunFile(): string { return this.path('backup-run.json'); }
  get eventsFile(): string { return this.path('events.jsonl'); }
  get passwordsDir(): string { return this.path('passwords'); }
  get pkiDir(): string { return this.path('pki'); }
  get runDir(): string { return this.path('run'); }
  get logsDir(): string { return this.path('logs'); }
  get endpointsFile(): string { return this.path('run', 'endpoints.json'); }
  pidFile(component: 'coordinator' | 'endpoints'): string { return this.path('run', `${component}.pid`); }
  /** Held by a command (up, down, reinit, ...) while it starts or stops processes: see controller.ts. */
  get cliLockFile(): string { return this.path('run', 'cli.lock'); }
  /** Held for their lifetime by the coordinator or the endpoints process. */
  lockFile(component: 'coordinator' | 'endpoints'): string { return this.path('run', `${component}.lock`); }
  /** Held by an instance's supervisor and shared with its mysqld and agent: one set of processes per instance. */
  instanceLockFile(index: number): string { return path.join(this.instance(index).root, 'run', 'instance.lock'); }

  instance(index: number): InstanceLayout {
    return instanceLayout(this.path('instances', String(index)));
  }
  instancePidFile(index: number, component: 'supervisor' | 'agent'): string {
    return path.join(this.instance(index).root, 'run', `${component}.pid`);
  }

  async exists(): Promise<boolean> {
    return fs.access(this.clusterFile).then(() => true, () => false);
  }

  readCluster(): Promise<ClusterFile> { return readJson<ClusterFile>(this.clusterFile); }
  /**
   * The desired spec, normalized from the applied manifest (Secrets resolved now, never stored elsewhere).
   * @throws ManifestError when the stored manifest no longer validates.
   */
  async readSpec(): Promise<ClusterSpec> {
    return parseManifest(await fs.readFile(this.manifestFile, 'utf8'), { source: this.manifestFile }).spec;
  }
  /** Stores an applied manifest (private: it may hold Secrets). */
  async writeManifest(text: string): Promise<void> {
    await writeFileAtomic(this.manifestFile, text, 0o600);
  }
  /** The stored status without its version (status writers use platform.ts LocalStatusStore). */
  async readStatus(): Promise<ClusterStatus | undefined> {
    const stored = await readJsonOptional<ClusterStatus & { resourceVersion?: string }>(this.statusFile);
    if (!stored) return undefined;
    const { resourceVersion: _, ...status } = stored;
    return status;
  }
  async readAnnotations(): Promise<Annotations> { return (await readJsonOptional<Annotations>(this.annotationsFile)) ?? {}; }
  writeCluster(c: ClusterFile): Promise<void> { return writeJsonAtomic(this.clusterFile, c); }
  writeAnnotations(a: Annotations): Promise<void> { return writeJsonAtomic(this.annotationsFile, a); }

  async switchoverRequested(): Promise<boolean> {
    return fs.access(this.switchoverRequestFile).then(() => true, () => false);
  }
  async requestSwitchover(): Promise<void> {
    await fs.mkdir(path.dirname(this.switchoverRequestFile), { recursive: true });
    await fs.writeFile(this.switchoverRequestFile, new Date().toISOString());
  }
  async clearSwitchoverRequest(): Promise<void> {
    await fs.rm(this.switchoverRequestFile, { force: true });
  }

  async appendEvent(e: Omit<ClusterEvent, 'time'>): Promise<void> {
    await fs.appendFile(this.eventsFile, `${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
  }
  async readEvents(): Promise<ClusterEvent[]> {
    const text = await fs.readFile(this.eventsFile, 'utf8').catch(() => '');
    return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ClusterEvent);
  }
}

/** The clusters under a state directory (those with a cluster.json). */
export async function listClusters(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && await fs.access(path.join(dir, e.name, 'cluster.json')).then(() => true, () => false)) names.push(e.name);
  }
  return names.sort();
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T;
}

export async function readJsonOptional<T>(file: string): Promise<T | undefined> {
  try {
    return await readJson<T>(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes JSON through a temporary file and a rename, so readers never see half a file. */
export async function writeJsonAtomic(file: string, value: unknown, mode = 0o644): Promise<void> {
  // A unique name per write: two writes in flight in one process must not rename each other's file.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode });
  await fs.rename(tmp, file);
}

export async function writePid(file: string, pid = process.pid): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${pid}\n`);
}

/**
 * The PID in `file` if that process is alive and its command line mentions `marker` (guards against a reused
 * PID: we only ever signal our own processes). Undefined otherwise.
 */
export function livePid(file: string, marker: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && pidMatches(pid, marker) ? pid : undefined;
}

export function pidMatches(pid: number, marker: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false; // a zombie is dead
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}

/** Sends `signal` to a process we own; quiet when it is already gone. */
export function signalPid(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `pid` is gone (polls every 50 ms); false after `timeoutMs`. */
export async function waitGone(pid: number, marker: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidMatches(pid, marker)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !pidMatches(pid, marker);
}
