/**
 * Certificate minting for the cluster's mutual TLS: one self-signed CA per cluster, and leaf certificates for
 * the coordinator and the agents signed by it. Keys are ECDSA P-256 as PKCS#8 PEM, which Node's TLS (and so
 * grpc-js) reads directly. Everything here is in memory; the on-disk layout and the gRPC credentials are in
 * `tls.ts`.
 */
import { webcrypto, createPrivateKey, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import type * as X509 from '@peculiar/x509';
import { invalidArgument, failedPrecondition } from './errors.ts';

/** A certificate and its private key, both PEM text (the key is PKCS#8: `-----BEGIN PRIVATE KEY-----`). */
export interface Pem {
  cert: string;
  key: string;
}

/** What a leaf certificate may be used for: TLS server, TLS client, or both (its extended key usage). */
export type CertUsage = 'server' | 'client' | 'both';

/** Options for {@link issueCert}. */
export interface IssueCertOptions {
  /** The subject CN; `peerIdentity` in `tls.ts` reports it as the caller's identity. */
  commonName: string;
  /** DNS names in the subjectAltName; default `['localhost']`, `[]` for none. */
  dnsNames?: string[];
  /** IPv4/IPv6 addresses in the subjectAltName; default `['127.0.0.1', '::1']`, `[]` for none. */
  ipAddresses?: string[];
  /** URIs in the subjectAltName: the cluster a certificate belongs to ({@link clusterUri}). */
  uris?: string[];
  /** Validity in days from now. Default {@link DEFAULT_LEAF_VALID_DAYS}. */
  validDays?: number;
  /** Start of validity; default now, less a little for clock skew (a past date makes a certificate already aged). */
  notBefore?: Date;
  usage: CertUsage;
}

/**
 * The URI a certificate carries (in its subjectAltName) to name the cluster it belongs to: an agent refuses a peer
 * or a coordinator whose certificate names another cluster.
 */
export function clusterUri(namespace: string, name: string): string {
  return `moco://${namespace}/${name}`;
}

/** Default CA validity: ten years. */
export const DEFAULT_CA_VALID_DAYS = 3650;
/** Default leaf validity: 825 days. Nothing renews leaves automatically; delete the pair to re-issue it. */
export const DEFAULT_LEAF_VALID_DAYS = 825;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates start a little in the past so a peer whose clock is slightly behind accepts them. */
const BACKDATE_MS = 5 * 60 * 1000;
const EC_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
// @peculiar/x509 only finds a default WebCrypto in browsers; in Node it must be passed to every call.
const crypto = webcrypto;

let x509Module: Promise<typeof X509> | undefined;

/** Loads @peculiar/x509 on first use; its dependency tsyringe needs the Reflect metadata polyfill first. */
function loadX509(): Promise<typeof X509> {
  // A split bundle (scripts/build.sh) gives the package's CommonJS build as a chunk whose namespace holds it as
  // `default` only; from the sources the named exports are there.
  x509Module ??= import('reflect-metadata').then(() => import('@peculiar/x509'))
    .then((m) => ('X509CertificateGenerator' in m ? m : (m as unknown as { default: typeof X509 }).default));
  return x509Module;
}

/**
 * Creates a self-signed CA: basicConstraints `CA:true, pathlen:0` (it signs leaves only), keyUsage
 * `keyCertSign | cRLSign`, a fresh ECDSA P-256 key.
 *
 * @param commonName - the CA's subject CN (e.g. `moco-ca-<cluster>`).
 * @param opts.validDays - validity in days, default {@link DEFAULT_CA_VALID_DAYS}.
 * @throws MocoError INVALID_ARGUMENT for an empty CN or a non-positive validity.
 */
export async function createCa(commonName: string, opts: { validDays?: number } = {}): Promise<Pem> {
  const validDays = checkValidDays(opts.validDays ?? DEFAULT_CA_VALID_DAYS);
  const name = subjectName(commonName);
  const x509 = await loadX509();
  const keys = await crypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name,
      keys,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + validDays * DAY_MS),
      signingAlgorithm: EC_SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert: cert.toString('pem'), key: await exportKeyPem(keys.privateKey) };
}

/**
 * Issues a leaf certificate signed by `ca` with a fresh ECDSA P-256 key: subjectAltName with the given DNS
 * names and IPs, extended key usage serverAuth and/or clientAuth per `usage`, keyUsage digitalSignature,
 * basicConstraints `CA:false`. The CA key may be EC (P-256/P-384) or RSA, in any PEM form Node reads.
 *
 * @throws MocoError INVALID_ARGUMENT for a bad CN, IP, DNS name, usage or validity, or when `ca` is not a CA
 *   certificate and key in PEM; FAILED_PRECONDITION when the CA key does not belong to the CA certificate.
 */
export async function issueCert(ca: Pem, opts: IssueCertOptions): Promise<Pem> {
  const validDays = checkValidDays(opts.validDays ?? DEFAULT_LEAF_VALID_DAYS);
  const name = subjectName(opts.commonName);
  const sans = subjectAltNames(opts.dnsNames, opts.ipAddresses, opts.uris);
  const ekus = extendedKeyUsages(opts.usage);
  const { caCert, signingKey, signingAlgorithm } = await loadCa(ca);
  const x509 = await loadX509();
  const keys = await crypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: name,
      issuer: caCert.subjectName,
      publicKey: keys.publicKey,
      signingKey,
      notBefore: opts.notBefore ?? new Date(now - BACKDATE_MS),
      notAfter: new Date(now + validDays * DAY_MS),
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(ekus, false),
        new x509.SubjectAlternativeNameExtension(sans, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto),
      ],
    },
    crypto,
  );
  return { cert: cert.toString('pem'), key: await exportKeyPem(keys.privateKey) };
}

// ---------------------------------------------------------------------------------------------------------

interface LoadedCa {
  caCert: X509.X509Certificate;
  signingKey: webcrypto.CryptoKey;
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
}

/** Parses the CA pair, checks it is a CA and that the key matches, and imports the key for signing. */
async function loadCa(ca: Pem): Promise<LoadedCa> {
  const nodeCert = parseCert(ca.cert, 'CA certificate');
  const keyObject = parseKey(ca.key, 'CA key');
  if (!nodeCert.ca) throw invalidArgument(`certificate ${nodeCert.subject} is not a CA (basicConstraints CA:false)`);
  if (!nodeCert.checkPrivateKey(keyObject)) {
    throw failedPrecondition(`the CA key does not belong to the CA certificate ${nodeCert.subject}`);
  }
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  let importAlgorithm: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  let signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
  if (keyObject.asymmetricKeyType === 'ec') {
    const curves: Record<string, 'P-256' | 'P-384' | undefined> = { prime256v1: 'P-256', secp384r1: 'P-384' };
    const curve = curves[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
    if (curve === undefined) throw invalidArgument('the CA key uses an unsupported curve; use P-256 or P-384');
    importAlgorithm = { name: 'ECDSA', namedCurve: curve };
    signingAlgorithm = { name: 'ECDSA', hash: curve === 'P-256' ? 'SHA-256' : 'SHA-384' };
  } else if (keyObject.asymmetricKeyType === 'rsa') {
    importAlgorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    signingAlgorithm = { name: 'RSASSA-PKCS1-v1_5' };
  } else {
    throw invalidArgument(`the CA key type ${keyObject.asymmetricKeyType ?? 'unknown'} is not supported; use EC or RSA`);
  }
  const signingKey = await crypto.subtle.importKey('pkcs8', der, importAlgorithm, false, ['sign']);
  const x509 = await loadX509();
  return { caCert: new x509.X509Certificate(ca.cert), signingKey, signingAlgorithm };
}

function parseCert(pem: string, what: string): NodeX509 {
  try {
    return new NodeX509(pem);
  } catch (err) {
    throw invalidArgument(`${what} is not a PEM certificate`, { cause: err });
  }
}

function parseKey(pem: string, what: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw invalidArgument(`${what} is not a PEM private key`, { cause: err });
  }
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return (await loadX509()).PemConverter.encode(der, 'PRIVATE KEY');
}

function checkValidDays(days: number): number {
  if (!Number.isInteger(days) || days <= 0) throw invalidArgument(`validDays must be a positive integer, got ${days}`);
  return days;
}

/** A one-attribute subject; the JSON form keeps commas or `=` in the CN from being read as more attributes. */
function subjectName(commonName: string): X509.JsonName {
  if (commonName.trim() === '') throw invalidArgument('a certificate commonName must not be empty');
  return [{ CN: [commonName] }];
}

function subjectAltNames(dnsNames: string[] | undefined, ipAddresses: string[] | undefined, uris: string[] = []): X509.JsonGeneralNames {
  const dns = dnsNames ?? ['localhost'];
  const ips = ipAddresses ?? ['127.0.0.1', '::1'];
  for (const d of dns) {
    if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(d)) {
      throw invalidArgument(`"${d}" is not a valid DNS name for a certificate`);
    }
  }
  for (const ip of ips) if (isIP(ip) === 0) throw invalidArgument(`"${ip}" is not an IPv4 or IPv6 address`);
  if (dns.length + ips.length + uris.length === 0) throw invalidArgument('a certificate needs at least one DNS name, IP address or URI');
  for (const u of uris) if (!/^[a-z][a-z0-9+.-]*:\/\/\S+$/.test(u)) throw invalidArgument(`"${u}" is not a URI`);
  return [...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value })),
    ...uris.map((value) => ({ type: 'url' as const, value }))];
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function extendedKeyUsages(usage: CertUsage): string[] {
  switch (usage) {
    case 'server':
      return [SERVER_AUTH];
    case 'client':
      return [CLIENT_AUTH];
    case 'both':
      return [SERVER_AUTH, CLIENT_AUTH];
    default:
      throw invalidArgument(`usage must be 'server', 'client' or 'both', got ${String(usage)}`);
  }
}
