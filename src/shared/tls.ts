/**
 * Mutual TLS between the coordinator and the agents: the gRPC credentials built from the PKI files (the directory
 * of them is kept by `pki-dir.ts`). Both sides trust exactly one root, the cluster CA (minted by `pki.ts`), and
 * both present a certificate issued by it:
 *
 * - the agent's server ({@link serverCredentials}) requires a client certificate and lets the TLS layer verify
 *   it against the CA, so a caller with no certificate, or with one from another CA, fails the handshake and
 *   never reaches a handler;
 * - the coordinator's channel ({@link clientCredentials}) verifies the agent's certificate against the same CA
 *   and checks that its subjectAltName matches the host it dialled (or the `grpc.ssl_target_name_override`
 *   channel option), so an agent with a certificate from another CA is refused too;
 * - inside a handler, {@link peerIdentity} gives the verified caller's CN and {@link peerInfo} its certificate's
 *   subjectAltName (the cluster it names), for authorization.
 */
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { clusterMismatch, clusterUrisOf, type ClusterRef } from './cluster-identity.ts';
import { invalidArgument, messageOf } from './errors.ts';
import { parseCert, parseKey, type PkiFiles } from './pki-dir.ts';

export { createCa, issueCert, DEFAULT_CA_VALID_DAYS, DEFAULT_LEAF_VALID_DAYS } from './pki.ts';
export type { Pem, CertUsage, IssueCertOptions } from './pki.ts';
export { ensurePki } from './pki-dir.ts';
export type { PkiFiles, PkiIdentity } from './pki-dir.ts';

/**
 * The certificate CNs of the kinds of callers; agents authorize callers by comparing with these
 * (`src/agent/rpc/authorize.ts` says which may call what): the coordinator, a peer agent (clone donor streams) and
 * a backup runner (the backup CronJob's and the restore Job's process on Kubernetes).
 */
export const IDENTITIES = { coordinator: 'moco-controller', agent: 'moco-agent', backup: 'moco-backup' } as const;

/** The PEM bytes of a {@link PkiFiles} triple, as grpc-js takes them. */
export interface PkiMaterial {
  caCert: Buffer;
  cert: Buffer;
  key: Buffer;
}

/**
 * The part of a grpc-js call's auth context that {@link peerIdentity} reads: structurally grpc-js's
 * `AuthContext`, which the package does not export.
 */
export interface PeerAuthContext {
  /** `'ssl'` on a TLS connection whose peer certificate was verified; absent otherwise. */
  transportSecurityType?: string;
  sslPeerCertificate?: PeerCertificate;
}


/**
 * Reads the three PEM files and checks, before any connection is made, that they fit together: the CA file
 * holds at least one certificate, the key parses and belongs to the certificate, and (for a single-certificate
 * file) the certificate was issued by a certificate in the CA file. Reads synchronously: it runs once, while
 * credentials are built at start-up.
 *
 * @throws MocoError INVALID_ARGUMENT naming the file that is missing, unreadable or does not fit.
 */
export function loadPkiFiles(files: PkiFiles): PkiMaterial {
  const caCert = readPem(files.caCert, 'CA certificate');
  const cert = readPem(files.cert, 'certificate');
  const key = readPem(files.key, 'private key');

  const cas = pemBlocks(caCert.toString('utf8')).map((pem) => parseCert(pem, files.caCert));
  if (cas.length === 0) throw invalidArgument(`CA certificate file ${files.caCert} holds no PEM certificate`);
  const certs = pemBlocks(cert.toString('utf8')).map((pem) => parseCert(pem, files.cert));
  const leaf = certs[0];
  if (leaf === undefined) throw invalidArgument(`certificate file ${files.cert} holds no PEM certificate`);
  if (!leaf.checkPrivateKey(parseKey(key, files.key))) {
    throw invalidArgument(`private key file ${files.key} does not belong to certificate ${files.cert}`);
  }
  if (certs.length === 1 && !cas.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey))) {
    throw invalidArgument(`certificate ${files.cert} was not issued by the CA in ${files.caCert}`);
  }
  return { caCert, cert, key };
}

/**
 * Server credentials for the agent: presents `files.cert`, requires every client to present a certificate
 * and verifies it against `files.caCert` (grpc-js `checkClientCertificate = true`). A client with no
 * certificate or with one from another CA fails the TLS handshake; its calls end with UNAVAILABLE on the
 * client and no handler runs.
 *
 * @throws MocoError INVALID_ARGUMENT as {@link loadPkiFiles}.
 */
export function serverCredentials(files: PkiFiles): grpc.ServerCredentials {
  const { caCert, cert, key } = loadPkiFiles(files);
  return grpc.ServerCredentials.createSsl(caCert, [{ cert_chain: cert, private_key: key }], true);
}

/**
 * Channel credentials for the coordinator: presents `files.cert` as the client certificate and verifies
 * the server against `files.caCert` only (not the system roots), including that the server certificate's
 * subjectAltName matches the dialled host. A server with a certificate from another CA is refused: the
 * call ends with UNAVAILABLE.
 *
 * @throws MocoError INVALID_ARGUMENT as {@link loadPkiFiles}.
 */
export function clientCredentials(files: PkiFiles): grpc.ChannelCredentials {
  return clientCredentialsFrom(loadPkiFiles(files));
}

/** {@link clientCredentials} from PEM bytes in memory (a controller issues its certificates without files). */
export function clientCredentialsFrom(m: PkiMaterial): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(m.caCert, m.key, m.cert);
}

/**
 * Checks a server's certificate by the cluster it names instead of by host name: for agent-to-agent calls (a clone
 * receiver calling its donor), where the donor is reached by an address (a Pod IP that changes with every new Pod)
 * that no certificate lists. The chain is verified against the cluster CA as always; then the certificate must
 * name exactly `cluster` (`moco://<namespace>/<name>`).
 *
 * @returns the check for `tls.connect`'s and grpc-js's `checkServerIdentity`: undefined when it fits, else the error.
 */
export function clusterServerIdentity(cluster: ClusterRef): (host: string, cert: PeerCertificate) => Error | undefined {
  return (host, cert) => {
    const mismatch = clusterMismatch(clusterUrisOf(cert.subjectaltname), cluster, `the certificate of the agent at ${host}`);
    return mismatch === undefined ? undefined : new Error(mismatch);
  };
}

/** {@link clientCredentialsFrom} for calls to another agent of `cluster` (see {@link clusterServerIdentity}). */
export function peerCredentialsFrom(m: PkiMaterial, cluster: ClusterRef): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(m.caCert, m.key, m.cert, { checkServerIdentity: clusterServerIdentity(cluster) });
}

/**
 * The CN of the caller's verified client certificate, from grpc-js's `call.getAuthContext()` (on every server
 * call object in grpc-js 1.14). grpc-js only reports a certificate for a TLS socket whose peer was authorized,
 * and {@link serverCredentials} only lets authorized peers connect, so a returned CN is one the cluster CA
 * vouched for.
 *
 * @returns the CN, or `undefined` on an insecure connection, without a client certificate, when the
 *   certificate has no CN or more than one, or when the call object has no `getAuthContext`.
 */
export function peerIdentity(call: { getAuthContext?: () => PeerAuthContext | null | undefined }): string | undefined {
  const ctx = call.getAuthContext?.();
  if (ctx?.transportSecurityType !== 'ssl') return undefined;
  // Node gives an array when the subject has several CNs; an identity must be unambiguous.
  const cn: unknown = ctx.sslPeerCertificate?.subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

/** What an agent needs to know about a verified caller: its CN, its certificate's subjectAltName and serial. */
export interface PeerInfo {
  /** The CN ({@link peerIdentity}); undefined when there is none or more than one. */
  commonName: string | undefined;
  /** The certificate's subjectAltName as Node formats it (`DNS:a, URI:moco://ns/n`), '' when absent. */
  subjectAltName: string;
  /** Hex, as Node reports it. */
  serialNumber: string;
}

/**
 * The verified caller's certificate details (see {@link peerIdentity} for when grpc-js reports one).
 *
 * @returns undefined on an insecure connection or without a client certificate.
 */
export function peerInfo(call: { getAuthContext?: () => PeerAuthContext | null | undefined }): PeerInfo | undefined {
  const ctx = call.getAuthContext?.();
  const cert = ctx?.transportSecurityType === 'ssl' ? ctx.sslPeerCertificate : undefined;
  if (!cert || Object.keys(cert).length === 0) return undefined;
  return { commonName: peerIdentity(call), subjectAltName: cert.subjectaltname ?? '', serialNumber: cert.serialNumber ?? '' };
}

// ---------------------------------------------------------------------------------------------------------

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${messageOf(err)})`;
    throw invalidArgument(`${what} file ${path} ${reason}`, { cause: err, details: { path } });
  }
}

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

