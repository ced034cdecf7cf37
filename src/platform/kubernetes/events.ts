/**
 * Events on a MySQLCluster (what `kubectl describe mysqlcluster` lists), reported as the seed's controller does
 * (source moco-controller), in the order they happened. Best effort: an event that cannot be written is logged,
 * never thrown.
 */
import type { Logger } from '../../shared/logger.ts';
import { resourcePath, type Kube } from './kube.ts';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export function recordEvent(kube: Kube, log: Logger, target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
  const namespace = target.metadata.namespace ?? 'default';
  const now = new Date().toISOString();
  const body = {
    apiVersion: 'v1', kind: 'Event',
    metadata: { generateName: `${target.metadata.name}.`, namespace },
    involvedObject: {
      apiVersion: target.apiVersion, kind: target.kind, name: target.metadata.name, namespace,
      ...(target.metadata.uid ? { uid: target.metadata.uid } : {}),
    },
    type, reason, message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
    source: { component: 'moco-controller' }, reportingComponent: 'moco-controller',
    firstTimestamp: now, lastTimestamp: now, count: 1,
  };
  // One at a time per client, so that `kubectl get events` lists them in the order they happened.
  const previous = pending.get(kube) ?? Promise.resolve();
  const next = previous.then(() => kube.request('POST', resourcePath('v1', 'Event', namespace), { body, timeoutMs: 10_000 }))
    .then(() => undefined, (err: unknown) => log.warn({ err: (err as Error).message, reason }, 'cannot record an event'));
  pending.set(kube, next);
}

const pending = new WeakMap<Kube, Promise<void>>();

/** Resolves once every event recorded so far through `kube` was written (or given up). */
export async function eventsWritten(kube: Kube): Promise<void> {
  await pending.get(kube);
}
