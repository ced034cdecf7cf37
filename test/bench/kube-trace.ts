/**
 * Where the time of a failover or switchover goes on Kubernetes, for bench:kube: watches the cluster's Pods (role
 * labels) and the primary Service's Endpoints through the API server, and polls kube-proxy's metrics for the end of
 * each iptables sync, all with the time this process received them. For one event it gives the moments, relative to
 * the event's start, at which the primary label moved, the Endpoints pointed at the new primary, kube-proxy's rules
 * were rewritten after that, and the client got its first acknowledgement; and what the client's failed attempts
 * in between were.
 */
import { Informer } from '../../src/platform/kubernetes/informer.ts';
import { connect } from '../../src/platform/kubernetes/kube.ts';
import type { KubeObject } from '../../src/platform/kubernetes/objects.ts';
import { silentLogger } from '../../src/shared/logger.ts';
import type { Writer } from '../helpers/kube-writer.ts';

interface PodSeen { at: number; name: string; role: string; ip: string }
interface EndpointsSeen { at: number; ips: string[] }
interface SyncSeen { at: number; syncedAt: number }

type Pod = KubeObject & { status?: { podIP?: string } };
type Endpoints = KubeObject & { subsets?: Array<{ addresses?: Array<{ ip: string }> }> };

const PROXY_METRICS = 'http://127.0.0.1:10249/metrics';
const LAST_SYNC = /^kubeproxy_sync_proxy_rules_last_timestamp_seconds ([0-9.e+]+)$/m;

export interface EventTrace {
  /** ms after the event's start; undefined when not seen. */
  label?: number;
  endpoints?: number;
  rules?: number;
  firstAck?: number;
  /** The client's failed attempts between the label moving and the first acknowledgement, by kind. */
  failures: Record<string, { count: number; ms: number }>;
  /** Connects that timed out without a TCP connection, with what conntrack held for them. */
  slow?: string[];
}

export class KubeTrace {
  private readonly pods: PodSeen[] = [];
  private readonly endpoints: EndpointsSeen[] = [];
  private readonly syncs: SyncSeen[] = [];
  private readonly informers: Array<Informer<KubeObject>> = [];
  private polling: NodeJS.Timeout | undefined;

  constructor(private readonly o: { kubeconfig: string; namespace: string; cluster: string }) {}

  async start(): Promise<void> {
    const kube = connect({ kubeconfig: this.o.kubeconfig });
    const log = silentLogger();
    const pods = new Informer<Pod>({ kube, path: `/api/v1/namespaces/${this.o.namespace}/pods`, labelSelector: `app.kubernetes.io/instance=${this.o.cluster}`, log });
    pods.onChange((type, p) => {
      if (type === 'DELETED') return;
      this.pods.push({ at: Date.now(), name: p.metadata.name, role: p.metadata.labels?.['moco.cybozu.com/role'] ?? '', ip: p.status?.podIP ?? '' });
    });
    const primary = `moco-${this.o.cluster}-primary`;
    const eps = new Informer<Endpoints>({ kube, path: `/api/v1/namespaces/${this.o.namespace}/endpoints`, log });
    eps.onChange((type, e) => {
      if (e.metadata.name !== primary) return;
      const ips = type === 'DELETED' ? [] : (e.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
      this.endpoints.push({ at: Date.now(), ips });
    });
    await Promise.all([pods.start(), eps.start()]);
    this.informers.push(pods as Informer<KubeObject>, eps as Informer<KubeObject>);
    let last = 0;
    let busy = false;
    this.polling = setInterval(() => {
      if (busy) return;
      busy = true;
      void fetch(PROXY_METRICS, { signal: AbortSignal.timeout(1000) }).then(async (r) => {
        const m = LAST_SYNC.exec(await r.text());
        const syncedAt = m ? Math.round(Number(m[1]) * 1000) : 0;
        if (syncedAt > last) {
          last = syncedAt;
          this.syncs.push({ at: Date.now(), syncedAt });
        }
      }).catch(() => undefined).finally(() => {
        busy = false;
      });
    }, 50);
  }

  async stop(): Promise<void> {
    if (this.polling) clearInterval(this.polling);
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** Waits until the watch saw the primary label on another Pod than `oldPrimary` after `t0`; returns when. */
  async labelMoved(t0: number, oldPrimary: string, timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const moved = this.pods.find((p) => p.at >= t0 && p.role === 'primary' && p.name !== oldPrimary);
      if (moved) return moved.at;
      if (Date.now() > deadline) throw new Error(`the primary label did not move from ${oldPrimary} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The trace of an event that started at `t0` and moved the primary away from `oldPrimary`. */
  event(t0: number, oldPrimary: string, writer: Writer): EventTrace {
    const moved = this.pods.find((p) => p.at >= t0 && p.role === 'primary' && p.name !== oldPrimary);
    const rel = (t: number | undefined): number | undefined => (t === undefined ? undefined : t - t0);
    if (!moved) return { failures: {} };
    const newIp = this.pods.filter((p) => p.name === moved.name && p.ip !== '').at(-1)?.ip ?? '';
    const ep = this.endpoints.find((e) => e.at >= moved.at && e.ips.length === 1 && e.ips[0] === newIp);
    const sync = ep ? this.syncs.find((s) => s.syncedAt >= ep.at) : undefined;
    const ack = writer.ackTimes.find((a) => a > moved.at);
    const failures: Record<string, { count: number; ms: number }> = {};
    const slow: string[] = [];
    for (const f of writer.failures) {
      if (f.at < t0 || (ack !== undefined && f.at > ack)) continue;
      const kind = `${f.step}: ${f.message.replace(/[0-9.]+:\d+/g, 'ADDR').slice(0, 80)}${f.detail ? ` [${f.detail.split(';')[0]}]` : ''}`;
      if (f.detail?.includes('conntrack')) slow.push(`+${f.at - t0} ms, ${f.ms} ms: ${f.detail}`);
      const k = (failures[kind] ??= { count: 0, ms: 0 });
      k.count++;
      k.ms += f.ms;
    }
    return { label: rel(moved.at), endpoints: rel(ep?.at), rules: rel(sync?.syncedAt), firstAck: rel(ack), failures, slow };
  }
}

/** One line for a round's log. */
export function describeTrace(t: EventTrace): string {
  const f = (x: number | undefined): string => (x === undefined ? '?' : String(x));
  const kinds = Object.entries(t.failures).map(([k, v]) => `${v.count}x ${k} (${v.ms} ms)`).join('; ');
  return `labels +${f(t.label)}, endpoints +${f(t.endpoints)}, rules +${f(t.rules)}, first write +${f(t.firstAck)} ms` +
    (kinds ? `; failed attempts: ${kinds}` : '') + (t.slow ?? []).map((x) => `\n    timed out: ${x}`).join('');
}
