/**
 * Leader election with a coordination.k8s.io/v1 Lease (client-go's leaderelection, small): one controller leads
 * and runs the clusters; the others serve webhooks and wait. The Lease's `leaseTransitions` grows by one with every
 * new leader and is the leader's **term**: every mutating call to an agent carries it, and an agent refuses a
 * term older than one it has seen, so a deposed leader that has not noticed yet cannot act.
 */
import type { Logger } from '../../shared/logger.ts';
import { KubeError, resourcePath, type Kube } from './kube.ts';

export interface LeaseOptions {
  kube: Kube;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  /** How long a lease is valid without renewal (default 15 s). */
  durationMs?: number;
  /** How often the leader renews, and others retry (default 2 s). */
  retryMs?: number;
  /** A leader that could not renew for this long stops leading (default 10 s, less than durationMs). */
  renewDeadlineMs?: number;
}

interface LeaseObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

const micro = (d: Date): string => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  private stopped = false;
  private leading = false;
  private term = 0;
  private lastRenew = 0;

  constructor(private readonly o: LeaseOptions) {}

  /** The term of the current leadership (0 when not leading). */
  get currentTerm(): number {
    return this.term;
  }

  /**
   * Campaigns until it leads, then calls `onLead(term)`; keeps renewing; calls `onLost()` once if the lease is lost
   * or cannot be renewed in time. Resolves when stopped or lost.
   */
  async run(onLead: (term: number) => void, onLost: () => void): Promise<void> {
    const retryMs = this.o.retryMs ?? 2000;
    while (!this.stopped) {
      let led = false;
      try {
        led = await this.tryAcquireOrRenew();
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message }, 'lease: cannot read or write the lease');
      }
      if (led) {
        if (!this.leading) {
          this.leading = true;
          this.o.log.info({ term: this.term, identity: this.o.identity }, 'leading');
          onLead(this.term);
        }
      } else if (this.leading && Date.now() - this.lastRenew > (this.o.renewDeadlineMs ?? 10_000)) {
        this.o.log.warn({ term: this.term }, 'lost the lease');
        this.leading = false;
        this.term = 0;
        onLost();
        return;
      }
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Gives the lease up (on a clean shutdown), so another controller takes over at once. */
  async release(): Promise<void> {
    if (!this.leading) return;
    const lease = await this.o.kube.tryGet<LeaseObject>(this.path());
    if (lease?.spec.holderIdentity !== this.o.identity) return;
    await this.o.kube.request('PUT', this.path(), { body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } } }).catch(() => undefined);
    this.leading = false;
  }

  private path(): string {
    return resourcePath('coordination.k8s.io/v1', 'Lease', this.o.namespace, this.o.name);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { kube, identity } = this.o;
    const durationS = Math.ceil((this.o.durationMs ?? 15_000) / 1000);
    const now = new Date();
    const lease = await kube.tryGet<LeaseObject>(this.path());
    if (!lease) {
      const created: LeaseObject = {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: { name: this.o.name, namespace: this.o.namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: durationS, acquireTime: micro(now), renewTime: micro(now), leaseTransitions: 1 },
      };
      try {
        await kube.request('POST', resourcePath('coordination.k8s.io/v1', 'Lease', this.o.namespace), { body: created });
      } catch (err) {
        if (err instanceof KubeError && err.conflict) return false;
        throw err;
      }
      this.term = 1;
      this.lastRenew = Date.now();
      return true;
    }
    const s = lease.spec;
    const mine = s.holderIdentity === identity;
    const renewed = s.renewTime ? Date.parse(s.renewTime) : 0;
    const expired = !s.holderIdentity || Date.now() > renewed + (s.leaseDurationSeconds ?? durationS) * 1000;
    if (!mine && !expired) return false;
    const transitions = (s.leaseTransitions ?? 0) + (mine ? 0 : 1);
    const next: LeaseObject = {
      ...lease,
      spec: {
        holderIdentity: identity, leaseDurationSeconds: durationS, renewTime: micro(now), leaseTransitions: transitions,
        acquireTime: mine && s.acquireTime ? s.acquireTime : micro(now),
      },
    };
    try {
      await kube.request('PUT', this.path(), { body: next });
    } catch (err) {
      if (err instanceof KubeError && err.conflict) return false;
      throw err;
    }
    this.term = transitions;
    this.lastRenew = Date.now();
    return true;
  }
}
