/**
 * Mutual TLS between the coordinator and the agents: the PKI files on disk, and the gRPC credentials built
 * from them. Both sides trust exactly one root, the cluster CA (minted by `pki.ts`), and both present a
 * certificate issued by it:
 *
 * - the agent's server ({@link serverCredentials}) requires a client certificate and lets the TLS layer verify
 *   it against the CA, so a caller with no certificate, or with one from another CA, fails the handshake and
 *   never reaches a handler;
 * - the coordinator's channel ({@link clientCredentials}) verifies the agent's certificate against the same CA
 *   and checks that its subjectAltName matches the host it dialled (or the `grpc.ssl_target_name_override`
 *   channel option), so an agent with a certificate from another CA is refused too;
 * - inside a handler, {@link peerIdentity} gives the verified caller's CN, for authorization.
 */
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { failedPrecondition, invalidArgument, messageOf, MocoError } from './errors.ts';
import { createCa, issueCert, type CertUsage, type Pem } from './pki.ts';

export { createCa, issueCert, DEFAULT_CA_VALID_DAYS, DEFAULT_LEAF_VALID_DAYS } from './pki.ts';
export type { Pem, CertUsage, IssueCertOptions } from './pki.ts';

/** The certificate CNs of the two kinds of peers; agents may authorize callers by comparing with these. */
export const IDENTITIES = { coordinator: 'moco-controller', agent: 'moco-agent' } as const;

/** Paths of the three PEM files a TLS endpoint needs. */
export interface PkiFiles {
  /** The cluster CA certificate(s): the only trust root for peers. */
  caCert: string;
  /** This endpoint's leaf certificate. */
  cert: string;
  /** This endpoint's private key (PKCS#8 PEM, mode 0600). */
  key: string;
}

/** One leaf that {@link ensurePki} keeps in its directory as `<name>.crt` / `<name>.key`. */
export interface PkiIdentity {
  /** File base name: letters, digits, `.`, `_`, `-`; not `ca`. */
  name: string;
  commonName: string;
  usage: CertUsage;
  /** DNS names for the subjectAltName, default `['localhost']`; IPs 127.0.0.1 and ::1 are always added. */
  dnsNames?: string[];
}

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
 * Makes sure `dir` holds a CA (`ca.crt`, `ca.key`) and a leaf pair `<name>.crt` / `<name>.key` per identity,
 * creating only what is missing, and returns the paths per identity name.
 *
 * - `dir` is created with mode 0700 if absent (an existing directory's mode is left alone).
 * - Existing files are reused byte for byte and never regenerated; a second call writes nothing.
 *   Changing an identity's `dnsNames` therefore does not change an existing certificate.
 * - A missing leaf (either file of the pair) is issued, as a pair, from the existing CA. If the CA itself
 *   was created by this call, every leaf is (re-)issued: older leaves cannot chain to a brand-new CA.
 * - Each file is written atomically (temp file, fsync, rename); keys have mode 0600, certificates 0644.
 * - Not safe for concurrent callers on the same directory: call it once, at start-up, from one process.
 *
 * @throws MocoError FAILED_PRECONDITION when exactly one of `ca.crt` / `ca.key` exists, when the CA key does
 *   not match its certificate, or when an existing leaf was not issued by the CA or does not match its key;
 *   INVALID_ARGUMENT for a bad identity or an unparsable file; INTERNAL (with `cause`) for an I/O failure.
 */
export async function ensurePki(dir: string, identities: PkiIdentity[]): Promise<Record<string, PkiFiles>> {
  checkIdentities(identities);
  const created = await io(`create ${dir}`, () => mkdir(dir, { recursive: true, mode: 0o700 }));
  if (created !== undefined) await io(`chmod ${dir}`, () => chmod(dir, 0o700));

  const caCertPath = join(dir, 'ca.crt');
  const caKeyPath = join(dir, 'ca.key');
  const [haveCaCert, haveCaKey] = [await exists(caCertPath), await exists(caKeyPath)];
  if (haveCaCert !== haveCaKey) {
    const [present, missing] = haveCaCert ? [caCertPath, caKeyPath] : [caKeyPath, caCertPath];
    throw failedPrecondition(
      `PKI directory ${dir} has ${present} but not ${missing}; restore ${missing}, or remove ${present} ` +
        'to create a new CA (every certificate issued by the old CA then stops being trusted)',
      { details: { dir, present, missing } },
    );
  }
  let ca: Pem;
  let wrote = false;
  const newCa = !haveCaCert;
  if (newCa) {
    ca = await createCa(`moco-ca-${randomBytes(4).toString('hex')}`);
    await writeFileAtomic(caKeyPath, ca.key, 0o600);
    await writeFileAtomic(caCertPath, ca.cert, 0o644);
    wrote = true;
  } else {
    ca = { cert: await readText(caCertPath), key: await readText(caKeyPath) };
    const caCert = parseCert(ca.cert, caCertPath);
    if (!caCert.ca) throw failedPrecondition(`${caCertPath} is not a CA certificate (basicConstraints CA:false)`);
    if (!caCert.checkPrivateKey(parseKey(ca.key, caKeyPath))) {
      throw failedPrecondition(`${caKeyPath} does not belong to ${caCertPath}; restore the matching pair`);
    }
  }

  const result: Record<string, PkiFiles> = {};
  for (const id of identities) {
    const files = { caCert: caCertPath, cert: join(dir, `${id.name}.crt`), key: join(dir, `${id.name}.key`) };
    if (!newCa && (await exists(files.cert)) && (await exists(files.key))) {
      checkLeaf(ca.cert, { cert: await readText(files.cert), key: await readText(files.key) }, files);
    } else {
      const leaf = await issueCert(ca, { commonName: id.commonName, usage: id.usage, dnsNames: id.dnsNames });
      await writeFileAtomic(files.key, leaf.key, 0o600);
      await writeFileAtomic(files.cert, leaf.cert, 0o644);
      wrote = true;
    }
    result[id.name] = files;
  }
  // The renames are durable only once the directory itself is on disk.
  if (wrote) await io(`sync ${dir}`, () => syncDir(dir));
  return result;
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

// ---------------------------------------------------------------------------------------------------------

function checkIdentities(identities: PkiIdentity[]): void {
  const seen = new Set<string>();
  for (const id of identities) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id.name) || id.name === 'ca') {
      throw invalidArgument(`identity name "${id.name}" must be letters, digits, '.', '_' or '-', and not "ca"`);
    }
    if (seen.has(id.name)) throw invalidArgument(`identity name "${id.name}" is given twice`);
    seen.add(id.name);
    if (id.commonName.trim() === '') throw invalidArgument(`identity "${id.name}" needs a commonName`);
    if (!['server', 'client', 'both'].includes(id.usage)) {
      throw invalidArgument(`identity "${id.name}": usage must be 'server', 'client' or 'both'`);
    }
  }
}

/** Throws unless `leaf` was issued and signed by the CA and its key matches its certificate. */
function checkLeaf(caPem: string, leaf: Pem, files: PkiFiles): void {
  const ca = parseCert(caPem, files.caCert);
  const cert = parseCert(leaf.cert, files.cert);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw failedPrecondition(
      `${files.cert} was not issued by the CA in ${files.caCert}; remove ${files.cert} and ${files.key} to re-issue it`,
    );
  }
  if (!cert.checkPrivateKey(parseKey(leaf.key, files.key))) {
    throw failedPrecondition(`${files.key} does not belong to ${files.cert}; remove both to re-issue them`);
  }
}

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

function parseCert(pem: string, path: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw invalidArgument(`${path} holds a certificate that does not parse: ${messageOf(err)}`, { cause: err });
  }
}

function parseKey(pem: string | Buffer, path: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw invalidArgument(`${path} is not a PEM private key: ${messageOf(err)}`, { cause: err });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new MocoError('INTERNAL', `cannot stat ${path}`, { cause: err });
  }
}

function readText(path: string): Promise<string> {
  return io(`read ${path}`, () => readFile(path, 'utf8'));
}

/** Writes via a temp file in the same directory, fsyncs it, then renames it over `path`. */
async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.chmod(mode); // open()'s mode is filtered by the umask; set it exactly
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new MocoError('INTERNAL', `cannot write ${path}`, { cause: err });
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function io<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new MocoError('INTERNAL', `cannot ${what}`, { cause: err });
  }
}
