/**
 * Events on a MySQLCluster (what `kubectl describe mysqlcluster` lists), reported as the seed's controller does
 * (source moco-controller). Best effort: an event that cannot be written is logged, never thrown.
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
  void kube.request('POST', resourcePath('v1', 'Event', namespace), { body, timeoutMs: 10_000 })
    .catch((err: unknown) => log.warn({ err: (err as Error).message, reason }, 'cannot record an event'));
}
