/**
 * An in-memory ClusterPlatform for the manager tests: the API server is a few fields, agents are fakes given
 * by the test. It passes the same contract as the real platforms (test/unit/platform/platform-contract.test.ts),
 * so what the manager tests learn through it holds for them too. Every status patch is recorded.
 */
import type { ClusterSpec } from '../../src/api/spec.ts';
import type { ClusterStatus, Role } from '../../src/api/types.ts';
import {
  applyStatusPatch, checkOwned, StatusConflictError, withDefaults,
  type ClusterAnnotations, type ClusterPlatform, type InstanceAgent, type StatusOwner, type StatusPatch, type StatusStore,
  type VersionedStatus,
} from '../../src/coordinator/platform.ts';
import type { InstanceAddress } from '../../src/coordinator/types.ts';

export interface RecordedPatch {
  owner: StatusOwner;
  patch: Record<string, unknown>;
}

/** The stored status and its version, shared by every store of one fake cluster. */
class StatusCell {
  status: ClusterStatus = withDefaults(undefined);
  version = 1;
  readonly patches: RecordedPatch[] = [];
  /** Status patches and heartbeats, in the order they happened ('patch:<owner>', 'heartbeat'). */
  readonly journal: string[] = [];
  /** Runs before a patch is checked (a test makes another writer get in between here). */
  beforePatch: ((owner: StatusOwner) => void) | undefined;
}

class MemoryStatusStore implements StatusStore {
  constructor(protected readonly cell: StatusCell) {}

  async readStatus(): Promise<VersionedStatus> {
    return { status: structuredClone(this.cell.status), version: String(this.cell.version) };
  }

  async patchStatus<O extends StatusOwner>(owner: O, patch: StatusPatch<O>, version: string): Promise<string> {
    checkOwned(owner, patch);
    const hook = this.cell.beforePatch;
    this.cell.beforePatch = undefined;
    hook?.(owner);
    if (version !== String(this.cell.version)) throw new StatusConflictError(version, String(this.cell.version));
    this.cell.status = structuredClone(applyStatusPatch(this.cell.status, patch));
    this.cell.version++;
    this.cell.patches.push({ owner, patch: structuredClone(patch) as Record<string, unknown> });
    this.cell.journal.push(`patch:${owner}`);
    return String(this.cell.version);
  }
}

export class MemoryPlatform extends MemoryStatusStore implements ClusterPlatform {
  readonly name: string;
  readonly namespace: string;
  annotations: ClusterAnnotations = {};
  roles: Role[] = [];
  switchover = false;
  /** Readiness by instance (default: ready when not listed). */
  readonly ready = new Map<number, boolean>();
  readonly events: Array<{ type: 'Normal' | 'Warning'; reason: string; message: string }> = [];
  readonly heartbeats: Date[] = [];
  passwordsValue: Record<string, string> = { ADMIN_PASSWORD: 'admin-pw' };
  publishCount = 0;

  constructor(public spec: ClusterSpec, private readonly agents: (index: number) => InstanceAgent, status?: Partial<ClusterStatus>) {
    super(new StatusCell());
    this.name = spec.name;
    this.namespace = spec.namespace;
    if (status) this.cell.status = withDefaults(status);
  }

  /** Another writer of the same status (the backup side). */
  otherStore(): StatusStore {
    return new MemoryStatusStore(this.cell);
  }

  /** The stored status (a copy). */
  get status(): ClusterStatus {
    return structuredClone(this.cell.status);
  }

  /** Every patch written so far. */
  get patches(): RecordedPatch[] {
    return this.cell.patches;
  }

  /** Runs `fn` right before the next patch is checked against the version. */
  beforeNextPatch(fn: (owner: StatusOwner) => void): void {
    this.cell.beforePatch = fn;
  }

  /** Changes the stored status as another writer would (moves the version). */
  writeAsOther(patch: Partial<ClusterStatus>): void {
    this.cell.status = { ...this.cell.status, ...structuredClone(patch) };
    this.cell.version++;
  }

  async readSpec(): Promise<ClusterSpec> {
    return structuredClone(this.spec);
  }

  async readAnnotations(): Promise<ClusterAnnotations> {
    return { ...this.annotations };
  }

  async heartbeat(observedAt: Date): Promise<void> {
    this.heartbeats.push(observedAt);
    this.cell.journal.push('heartbeat');
  }

  /** Status patches and heartbeats, in order. */
  get journal(): string[] {
    return this.cell.journal;
  }

  async readRoles(replicas: number): Promise<Role[]> {
    return Array.from({ length: replicas }, (_, i) => this.roles[i] ?? '');
  }

  async publishRoles(roles: Role[]): Promise<void> {
    this.roles = [...roles];
    this.publishCount++;
  }

  async switchoverRequested(): Promise<boolean> {
    return this.switchover;
  }

  async clearSwitchoverRequest(): Promise<void> {
    this.switchover = false;
  }

  async readiness(index: number): Promise<boolean> {
    if (index < 0 || index >= this.spec.replicas) return false;
    return this.ready.get(index) ?? true;
  }

  address(index: number): InstanceAddress {
    return { host: '127.0.0.1', port: 13306 + index, agent: `127.0.0.1:${19000 + index}` };
  }

  private readonly agentCache = new Map<number, InstanceAgent>();

  agent(index: number): InstanceAgent {
    let a = this.agentCache.get(index);
    if (!a) {
      a = this.agents(index);
      this.agentCache.set(index, a);
    }
    return a;
  }

  async passwords(): Promise<Record<string, string>> {
    return { ...this.passwordsValue };
  }

  event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }
}
