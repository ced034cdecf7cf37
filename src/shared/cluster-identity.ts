/**
 * Which cluster a certificate belongs to. Every certificate a cluster's parties use (its agents', its
 * coordinator's, its backup runner's) carries the URI `moco://<namespace>/<name>` ({@link clusterUri}) in its
 * subjectAltName. One CA may serve many clusters (the Kubernetes controller's does), so the CA alone does not keep
 * cluster A's coordinator away from cluster B's agents: the agent compares this URI with its own cluster on every
 * call.
 */
import { X509Certificate } from 'node:crypto';
import { invalidArgument, messageOf } from './errors.ts';
import { clusterUri } from './pki.ts';

export { clusterUri };

/** A cluster's identity: the namespace and name of its MySQLCluster (local clusters: usually `default`). */
export interface ClusterRef {
  namespace: string;
  name: string;
}

/** The URI scheme of cluster identities. */
const SCHEME = 'moco://';

/** `namespace/name`, for messages. */
export function describeCluster(c: ClusterRef): string {
  return `${c.namespace}/${c.name}`;
}

/**
 * The entries of a subjectAltName as Node formats it (`X509Certificate.subjectAltName`, `PeerCertificate.subjectaltname`):
 * `DNS:a, IP Address:127.0.0.1, URI:moco://ns/n`. Node writes a value holding a comma, quote or other special character
 * as a JSON string (`URI:"moco://a\u002cb"`), so a value can never be mistaken for the next entry.
 *
 * @returns `[type, value]` pairs in order; an unparsable remainder ends the list (nothing after it is trusted).
 */
export function subjectAltNameEntries(san: string | undefined): [string, string][] {
  const out: [string, string][] = [];
  if (!san) return out;
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) break;
    const type = san.slice(i, colon);
    let value: string;
    let next: number;
    if (san[colon + 1] === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(san.slice(colon + 1));
      if (!m) break;
      try {
        value = JSON.parse(m[0]) as string;
      } catch {
        break;
      }
      next = colon + 1 + m[0].length;
    } else {
      const end = san.indexOf(', ', colon + 1);
      next = end < 0 ? san.length : end;
      value = san.slice(colon + 1, next);
    }
    out.push([type, value]);
    if (next < san.length && !san.startsWith(', ', next)) break;
    i = next + 2;
  }
  return out;
}

/** The cluster URIs (`moco://...`) among a subjectAltName's URI entries, as written. */
export function clusterUrisOf(san: string | undefined): string[] {
  return subjectAltNameEntries(san).filter(([t, v]) => t === 'URI' && v.startsWith(SCHEME)).map(([, v]) => v);
}

/** The cluster URIs a PEM certificate carries. @throws MocoError INVALID_ARGUMENT when it does not parse. */
export function clusterUrisOfPem(pem: string | Buffer, what = 'certificate'): string[] {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw invalidArgument(`${what} does not parse: ${messageOf(err)}`, { cause: err });
  }
  return clusterUrisOf(cert.subjectAltName);
}

/**
 * Why a certificate carrying `uris` does not belong to `own`, or undefined when it does: it must name exactly one
 * cluster, and that one. A certificate naming several clusters is refused too: it would open every one of them.
 *
 * @param whose - how the message names the certificate ("the caller's certificate (CN moco-controller)").
 */
export function clusterMismatch(uris: readonly string[], own: ClusterRef, whose: string): string | undefined {
  const want = clusterUri(own.namespace, own.name);
  if (uris.length === 0) {
    return `${whose} names no cluster (no ${SCHEME}<namespace>/<name> URI in its subjectAltName); this agent serves ` +
      `cluster ${describeCluster(own)}: reissue the certificate with the URI ${want}`;
  }
  if (uris.length > 1) {
    return `${whose} names ${uris.length} clusters (${uris.join(', ')}); a certificate must name exactly one: ` +
      `reissue it with the URI ${want} only`;
  }
  const got = uris[0] as string;
  if (got !== want) {
    return `${whose} belongs to cluster ${got.slice(SCHEME.length)}, but this agent serves cluster ${describeCluster(own)}`;
  }
  return undefined;
}
