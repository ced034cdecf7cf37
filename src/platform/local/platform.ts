/**
 * The local platform: the coordinator's port (src/coordinator/platform.ts) over a cluster's state directory, which
 * stands in for the API server. Roles are roles.json (the endpoints process follows it), requests are files,
 * status is status.json patched under a flock by each of its writers, the heartbeat a file in run/, events
 * events.jsonl, readiness the agents' /readyz asked directly.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadPasswords } from '../../shared/accounts.ts';
import type { ClusterSpec } from '../../api/spec.ts';
import type { ClusterStatus, Role } from '../../api/types.ts';
import {
  applyStatusPatch, checkOwned, StatusConflictError, withDefaults,
  type ClusterAnnotations, type ClusterPlatform, type InstanceAgent, type StatusOwner, type StatusPatch, type StatusStore,
  type VersionedStatus,
} from '../../coordinator/platform.ts';
import type { InstanceAddress } from '../../coordinator/types.ts';
import { AgentClient } from '../../shared/agent-client.ts';
import { MocoError } from '../../shared/errors.ts';
import { probeReady } from '../../shared/net.ts';
import { writeHeartbeat } from './heartbeat.ts';
import { ensureClusterPki } from './instance.ts';
import { acquireLockAsync, LockBusyError, type HeldLock } from './lock.ts';
import { readRoles, writeRoles } from './roles.ts';
import type { ClusterDir, ClusterFile, InstancePorts } from './state.ts';

/** The agent's readiness (GET /readyz); false when it does not answer within `timeoutMs`. */
export function readiness(httpPort: number, timeoutMs = 500): Promise<boolean> {
  return probeReady(httpPort, timeoutMs).result;
}

/** How long a status writer waits for another one to finish its patch. */
const STATUS_LOCK_WAIT_MS = 10_000;
/** How long a lock taken ahead (willPatch) is kept for a patch that does not come. */
const PREPARED_LOCK_MS = 1000;

/** status.json: the status, its version, and (from before the heartbeat) an observedAt that is dropped. */
type StoredStatus = ClusterStatus & { resourceVersion?: string; observedAt?: string };

function parseStored(text: string | undefined): VersionedStatus {
  if (text === undefined) return { status: withDefaults(undefined), version: '0' };
  const { resourceVersion, observedAt: _legacy, ...status } = JSON.parse(text) as StoredStatus;
  return { status: withDefaults(status), version: resourceVersion ?? '0' };
}

/**
 * status.json with a version (`resourceVersion`, a counter). Any number of these, in any number of processes, may
 * patch one cluster's status: each patch is a read-modify-write under run/status.lock (flock), refused when the
 * version moved since the writer's read. The file is replaced by a rename, so readers never need the lock.
 */
export class LocalStatusStore implements StatusStore {
  /** The lock taken ahead of a patch announced by willPatch(), until a patch uses it or PREPARED_LOCK_MS pass. */
  private prepared: { lock: Promise<HeldLock>; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly dir: ClusterDir) {}

  /**
   * Starts taking the status lock now, for a patch to come (taking it means starting flock(1), tens of ms on a
   * busy machine: a failover's commit write should not wait for that). Released unused after PREPARED_LOCK_MS.
   */
  willPatch(): void {
    if (this.prepared) return;
    // Starting flock(1) blocks the event loop until the child runs (a fork: several ms, tens on a busy machine):
    // the coordinator announces its commit write where it waits anyway.
    const lock = this.takeLock();
    lock.catch(() => undefined);
    const timer = setTimeout(() => {
      if (this.prepared?.lock !== lock) return;
      this.prepared = undefined;
      void lock.then((l) => l.release(), () => undefined);
    }, PREPARED_LOCK_MS);
    this.prepared = { lock, timer };
  }

  /** Releases a lock taken ahead and not used (on close). */
  releasePrepared(): void {
    const prepared = this.prepared;
    this.prepared = undefined;
    if (!prepared) return;
    clearTimeout(prepared.timer);
    void prepared.lock.then((l) => l.release(), () => undefined);
  }

  private async takeLock(): Promise<HeldLock> {
    try {
      return await acquireLockAsync(this.dir.statusLockFile, { waitMs: STATUS_LOCK_WAIT_MS });
    } catch (err) {
      if (!(err instanceof LockBusyError)) throw err;
      throw new MocoError('TIMEOUT', `cannot write ${this.dir.statusFile}: ${err.message} for more than ${STATUS_LOCK_WAIT_MS / 1000} s`, { cause: err });
    }
  }

  async readStatus(): Promise<VersionedStatus> {
    const text = await fs.readFile(this.dir.statusFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    return parseStored(text);
  }

  async patchStatus<O extends StatusOwner>(owner: O, patch: StatusPatch<O>, version: string): Promise<string> {
    checkOwned(owner, patch);
    const prepared = this.prepared;
    this.prepared = undefined;
    if (prepared) clearTimeout(prepared.timer);
    const lock = await (prepared ? prepared.lock.catch(() => this.takeLock()) : this.takeLock());
    try {
      // Synchronous from here to the release: nothing else of this process runs in between.
      let text: string | undefined;
      try {
        text = readFileSync(this.dir.statusFile, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      const current = parseStored(text);
      if (current.version !== version) throw new StatusConflictError(version, current.version);
      const next = String(Number(current.version) + 1);
      const stored: StoredStatus = { ...applyStatusPatch(current.status, patch), resourceVersion: next };
      const tmp = `${this.dir.statusFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o644 });
      renameSync(tmp, this.dir.statusFile);
      return next;
    } finally {
      lock.release();
    }
  }
}

export interface LocalPlatformOptions {
  /**
   * The agent of an instance (default: an AgentClient over mTLS with the cluster's coordinator certificate).
   * Tests pass fakes here.
   */
  agent?: (index: number, address: InstanceAddress) => InstanceAgent;
  /** Deadline of a readiness probe (default 500 ms). */
  readinessTimeoutMs?: number;
}

/** The local implementation of the coordinator's port; `close()` closes the agent connections it opened. */
export class LocalPlatform extends LocalStatusStore implements ClusterPlatform {
  readonly name: string;
  readonly namespace: string;
  private readonly agents = new Map<number, InstanceAgent & { close?: () => void }>();
  private events: Promise<void> = Promise.resolve();

  private constructor(
    private readonly cd: ClusterDir,
    private readonly cluster: ClusterFile,
    private readonly makeAgent: (index: number, address: InstanceAddress) => InstanceAgent,
    private readonly o: LocalPlatformOptions,
  ) {
    super(cd);
    this.name = cluster.name;
    this.namespace = cluster.namespace;
  }

  /** Opens the platform of the cluster in `dir` (reads cluster.json; the PKI unless agents are given). */
  static async open(dir: ClusterDir, o: LocalPlatformOptions = {}): Promise<LocalPlatform> {
    const cluster = await dir.readCluster();
    let make = o.agent;
    if (!make) {
      const pki = await ensureClusterPki(dir.pkiDir, cluster);
      make = (_i, address) => new AgentClient(address.agent, pki.coordinator);
    }
    return new LocalPlatform(dir, cluster, make, o);
  }

  private ports(i: number): InstancePorts {
    const p = this.cluster.instances[i];
    if (!p) throw new MocoError('NOT_FOUND', `instance ${i} has no ports in ${this.cd.clusterFile}`);
    return p;
  }

  async readSpec(): Promise<ClusterSpec> {
    const spec = await this.cd.readSpec();
    // A scale-out adds instances (and their ports) to cluster.json.
    if (this.cluster.instances.length < spec.replicas) Object.assign(this.cluster, await this.cd.readCluster());
    return spec;
  }

  readAnnotations(): Promise<ClusterAnnotations> {
    return this.cd.readAnnotations();
  }

  heartbeat(observedAt: Date): Promise<void> {
    return writeHeartbeat(this.cd, observedAt);
  }

  async readRoles(replicas: number): Promise<Role[]> {
    const file = await readRoles(this.cd.rolesFile);
    return Array.from({ length: replicas }, (_, i) => file?.instances.find((e) => e.index === i)?.role ?? '');
  }

  async publishRoles(roles: Role[]): Promise<void> {
    await writeRoles(this.cd.rolesFile, roles.map((role, index) => ({
      index, role, mysqlPort: this.ports(index).mysqlPort, httpPort: this.ports(index).httpPort,
    })));
  }

  switchoverRequested(): Promise<boolean> {
    return this.cd.switchoverRequested();
  }

  clearSwitchoverRequest(): Promise<void> {
    return this.cd.clearSwitchoverRequest();
  }

  async readiness(index: number): Promise<boolean> {
    const p = this.cluster.instances[index];
    return p ? readiness(p.httpPort, this.o.readinessTimeoutMs ?? 500) : false;
  }

  address(index: number): InstanceAddress {
    const p = this.ports(index);
    return { host: '127.0.0.1', port: p.mysqlPort, agent: `127.0.0.1:${p.grpcPort}` };
  }

  agent(index: number): InstanceAgent {
    let a = this.agents.get(index);
    if (!a) {
      a = this.makeAgent(index, this.address(index));
      this.agents.set(index, a);
    }
    return a;
  }

  async passwords(): Promise<Record<string, string>> {
    return { ...await loadPasswords({}, this.cd.passwordsDir) };
  }

  event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    // Appended one after another, so that they keep their order.
    this.events = this.events.then(() => this.cd.appendEvent({ type, reason, message })).catch(() => undefined);
  }

  /** Resolves once every event recorded so far is in events.jsonl. */
  flushEvents(): Promise<void> {
    return this.events;
  }

  close(): void {
    this.releasePrepared();
    for (const a of this.agents.values()) a.close?.();
    this.agents.clear();
  }
}
