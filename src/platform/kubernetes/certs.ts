/**
 * The controller's certificates: one CA (a Secret in the controller's namespace, created once by whichever
 * controller gets there first), and what it issues from it:
 * - per cluster, the agents' certificate (Secret `moco-<name>-grpc`: ca.crt, tls.crt, tls.key), which names the
 *   cluster (a URI in its subjectAltName) so that an agent of another cluster is refused;
 * - per cluster, the coordinator's client certificate (in memory only: a new controller issues its own);
 * - the webhooks' serving certificate (in memory; the CA bundle of the webhook configurations is kept current).
 * A certificate is renewed once a third of its validity is left; the agents read their files again when the
 * Secret changes, so no mysqld restarts. cert-manager is not needed.
 */
import { X509Certificate } from 'node:crypto';
import { clusterUri, createCa, issueCert, type Pem } from '../../shared/pki.ts';
import { IDENTITIES } from '../../shared/tls.ts';
import { KubeError, resourcePath, type Kube } from './kube.ts';
import { baseLabels, names } from './names.ts';
import type { KubeObject, OwnerRef } from './objects.ts';

export const CA_SECRET = 'moco-controller-ca';
const LEAF_DAYS = 90;

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: unknown): string => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');

/** True when the certificate is missing, unparsable, from another CA, or has less than a third of its validity left. */
export function needsRenewal(certPem: string | undefined, caPem: string, now = Date.now()): boolean {
  if (!certPem) return true;
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkIssued(new X509Certificate(caPem))) return true;
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    return now > to - (to - from) / 3;
  } catch {
    return true;
  }
}

/** The controller's CA, created in `namespace` when missing (concurrent creators agree on the first one). */
export async function ensureCa(kube: Kube, namespace: string): Promise<Pem> {
  const path = resourcePath('v1', 'Secret', namespace, CA_SECRET);
  const read = async (): Promise<Pem | undefined> => {
    const s = await kube.tryGet<KubeObject & { data?: Record<string, string> }>(path);
    return s?.data ? { cert: unb64(s.data['ca.crt']), key: unb64(s.data['ca.key']) } : undefined;
  };
  const existing = await read();
  if (existing?.cert && existing.key) return existing;
  const ca = await createCa('moco-controller-ca');
  try {
    await kube.request('POST', resourcePath('v1', 'Secret', namespace), {
      body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: CA_SECRET, namespace }, data: { 'ca.crt': b64(ca.cert), 'ca.key': b64(ca.key) } },
    });
    return ca;
  } catch (err) {
    if (err instanceof KubeError && err.conflict) {
      const other = await read();
      if (other) return other;
    }
    throw err;
  }
}

/** The agents' certificate Secret of a cluster: reissued only when it needs renewal; undefined when current. */
export async function agentCertSecret(ca: Pem, current: Record<string, string> | undefined,
  cluster: { name: string; namespace: string }, owner: OwnerRef): Promise<KubeObject | undefined> {
  if (current && unb64(current['ca.crt']) === ca.cert && !needsRenewal(unb64(current['tls.crt']), ca.cert)) return undefined;
  const leaf = await issueCert(ca, {
    commonName: IDENTITIES.agent, usage: 'both', validDays: LEAF_DAYS, ipAddresses: [],
    dnsNames: [`*.moco-${cluster.name}.${cluster.namespace}.svc`, `moco-${cluster.name}.${cluster.namespace}`],
    uris: [clusterUri(cluster.namespace, cluster.name)],
  });
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
    metadata: { name: names.grpcCert(cluster.name), namespace: cluster.namespace, labels: baseLabels(cluster.name), ownerReferences: [owner] },
    data: { 'ca.crt': b64(ca.cert), 'tls.crt': b64(leaf.cert), 'tls.key': b64(leaf.key) },
  };
}

/** The coordinator's client certificate for one cluster (kept in the controller's memory). */
export function coordinatorCert(ca: Pem, cluster: { name: string; namespace: string }): Promise<Pem> {
  return issueCert(ca, {
    commonName: IDENTITIES.coordinator, usage: 'client', validDays: LEAF_DAYS, dnsNames: [], ipAddresses: [],
    uris: [clusterUri(cluster.namespace, cluster.name)],
  });
}

/** The webhook Service's serving certificate. */
export function webhookCert(ca: Pem, service: string, namespace: string): Promise<Pem> {
  return issueCert(ca, {
    commonName: `${service}.${namespace}.svc`, usage: 'server', validDays: LEAF_DAYS, ipAddresses: [],
    dnsNames: [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, `${service}.${namespace}`],
  });
}
