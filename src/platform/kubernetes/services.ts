/**
 * The three Services of a cluster (the seed's): `moco-<name>` (headless, publishes not-ready addresses: replicas
 * and the coordinator find every instance), `moco-<name>-primary` and `moco-<name>-replica` (select the role label
 * the coordinator keeps). The user's templates may add labels, annotations and spec fields (type, extra ports); the
 * selector and the mysql and mysqlx ports are forced.
 */
import type { ClusterSpec } from '../../api/spec.ts';
import { PORTS } from './config.ts';
import { baseLabels, names, ROLE_LABEL } from './names.ts';
import { asJson, asList, type Json, type KubeObject, type OwnerRef } from './objects.ts';

const port = (name: string, number: number): Json => ({ name, protocol: 'TCP', port: number, targetPort: name });

function fromTemplate(spec: ClusterSpec, name: string, template: Json, owner: OwnerRef, role: 'primary' | 'replica'): KubeObject {
  const meta = asJson(template.metadata);
  const tspec = asJson(template.spec);
  const forced = [port('mysql', PORTS.mysql), port('mysqlx', PORTS.mysqlx)];
  const extra = asList(tspec.ports).filter((p) => p.name !== 'mysql' && p.name !== 'mysqlx');
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: {
      name, namespace: spec.namespace,
      labels: { ...(meta.labels as Record<string, string> | undefined), ...baseLabels(spec.name) },
      ...(meta.annotations ? { annotations: meta.annotations as Record<string, string> } : {}),
      ownerReferences: [owner],
    },
    spec: { type: 'ClusterIP', ...tspec, selector: { ...baseLabels(spec.name), [ROLE_LABEL]: role }, ports: [...forced, ...extra] },
  };
}

/**
 * The headless, primary and replica Services. `raw` is the MySQLCluster as written (for its Service templates).
 */
export function services(spec: ClusterSpec, raw: Json, owner: OwnerRef): KubeObject[] {
  const rs = asJson(raw.spec);
  const headless: KubeObject = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: names.headless(spec.name), namespace: spec.namespace, labels: baseLabels(spec.name), ownerReferences: [owner] },
    spec: {
      type: 'ClusterIP', clusterIP: 'None', publishNotReadyAddresses: true, selector: baseLabels(spec.name),
      ports: [port('mysql', PORTS.mysql), port('mysqlx', PORTS.mysqlx), port('mysql-admin', PORTS.admin)],
    },
  };
  return [
    headless,
    fromTemplate(spec, names.primary(spec.name), asJson(rs.primaryServiceTemplate), owner, 'primary'),
    fromTemplate(spec, names.replica(spec.name), asJson(rs.replicaServiceTemplate), owner, 'replica'),
  ];
}

/**
 * The cluster's PodDisruptionBudget (the seed's `moco-<name>`): at most `floor(replicas / 2)` instances voluntarily
 * disrupted at once (a drain, an eviction), so that a majority keeps serving and semi-sync keeps its acks. Only for
 * three instances or more and not while offline; `apiVersion` is what the API server serves (`policyApiVersion`).
 *
 * @returns undefined when the cluster should have none (the reconciler then deletes one left from before).
 */
export function podDisruptionBudget(spec: ClusterSpec, owner: OwnerRef, apiVersion: string): KubeObject | undefined {
  if (spec.replicas < 3 || spec.offline) return undefined;
  return {
    apiVersion, kind: 'PodDisruptionBudget',
    metadata: { name: names.pdb(spec.name), namespace: spec.namespace, labels: baseLabels(spec.name), ownerReferences: [owner] },
    spec: { maxUnavailable: Math.floor(spec.replicas / 2), selector: { matchLabels: baseLabels(spec.name) } },
  };
}
