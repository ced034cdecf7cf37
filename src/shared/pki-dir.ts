/**
 * The cluster PKI as a directory of PEM files (local clusters, `moco-agent certs`): one CA and a leaf pair per
 * identity, created when missing, re-issued when it no longer names the right cluster, never silently replaced
 * otherwise. The gRPC credentials built from such files are in `tls.ts`.
 */
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { syncDir, writeFileAtomic } from './atomic-file.ts';
import { subjectAltNameEntries } from './cluster-identity.ts';
import { failedPrecondition, invalidArgument, messageOf, MocoError } from './errors.ts';
import { createCa, issueCert, type CertUsage, type Pem } from './pki.ts';

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
  /**
   * URIs for the subjectAltName: the cluster the certificate belongs to (`clusterUri`). When given, an existing
   * leaf whose URIs differ (a certificate issued before clusters were named) is re-issued from the same CA.
   */
  uris?: string[];
}

/**
 * Makes sure `dir` holds a CA (`ca.crt`, `ca.key`) and a leaf pair `<name>.crt` / `<name>.key` per identity,
 * creating only what is missing, and returns the paths per identity name.
 *
 * - `dir` is created with mode 0700 if absent (an existing directory's mode is left alone).
 * - Existing files are reused byte for byte and never regenerated; a second call writes nothing.
 *   Changing an identity's `dnsNames` therefore does not change an existing certificate. The one exception is
 *   `uris`: a leaf whose URIs differ from the identity's is re-issued (same CA, same file names), so that a state
 *   directory from before certificates named their cluster keeps working after an upgrade. The CA is never
 *   replaced.
 * - A missing leaf (either file of the pair) is issued, as a pair, from the existing CA. If the CA itself
 *   was created by this call, every leaf is (re-)issued: older leaves cannot chain to a brand-new CA.
 * - Each file is written atomically (temp file, fsync, rename); keys have mode 0600, certificates 0644.
 * - Concurrent callers (processes starting at once after an upgrade) are serialised by a lock file
 *   (`<dir>/.lock`, taken only when something must be written; one older than 10 s is stale: writing takes
 *   milliseconds), so two of them never interleave the key of one leaf with the certificate of another.
 *
 * @throws MocoError FAILED_PRECONDITION when exactly one of `ca.crt` / `ca.key` exists, when the CA key does
 *   not match its certificate, or when an existing leaf was not issued by the CA or does not match its key;
 *   INVALID_ARGUMENT for a bad identity or an unparsable file; INTERNAL (with `cause`) for an I/O failure.
 */
export async function ensurePki(dir: string, identities: PkiIdentity[]): Promise<Record<string, PkiFiles>> {
  checkIdentities(identities);
  const created = await io(`create ${dir}`, () => mkdir(dir, { recursive: true, mode: 0o700 }));
  if (created !== undefined) await io(`chmod ${dir}`, () => chmod(dir, 0o700));
  // Most calls find everything in place and write nothing: they take no lock.
  const current = await ensureFiles(dir, identities, false);
  if (current) return current;
  return withDirLock(dir, async () => (await ensureFiles(dir, identities, true)) as Record<string, PkiFiles>);
}

/** ensurePki's work; with `write` false it returns undefined as soon as something would have to be written. */
async function ensureFiles(dir: string, identities: PkiIdentity[], write: boolean): Promise<Record<string, PkiFiles> | undefined> {
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
  if (newCa && !write) return undefined;
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
    let reuse = !newCa && (await exists(files.cert)) && (await exists(files.key));
    if (reuse) {
      const cert = await readText(files.cert);
      checkLeaf(ca.cert, { cert, key: await readText(files.key) }, files);
      if (id.uris !== undefined && !sameSet(uriSans(cert), id.uris)) reuse = false;
    }
    if (!reuse) {
      if (!write) return undefined;
      const leaf = await issueCert(ca, {
        commonName: id.commonName, usage: id.usage, dnsNames: id.dnsNames, ...(id.uris ? { uris: id.uris } : {}),
      });
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

// ---------------------------------------------------------------------------------------------------------

function uriSans(pem: string): string[] {
  return subjectAltNameEntries(new X509Certificate(pem).subjectAltName).filter(([t]) => t === 'URI').map(([, v]) => v);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

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
    for (const u of id.uris ?? []) {
      if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s,"]+$/.test(u)) throw invalidArgument(`identity "${id.name}": "${u}" is not a URI`);
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

/** Parses a PEM certificate; INVALID_ARGUMENT naming `path` otherwise. */
export function parseCert(pem: string, path: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw invalidArgument(`${path} holds a certificate that does not parse: ${messageOf(err)}`, { cause: err });
  }
}

/** Parses a PEM private key; INVALID_ARGUMENT naming `path` otherwise. */
export function parseKey(pem: string | Buffer, path: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw invalidArgument(`${path} is not a PEM private key: ${messageOf(err)}`, { cause: err });
  }
}

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 30_000;

/** Runs `fn` holding `<dir>/.lock` (created exclusively; removed afterwards; taken over when stale). */
async function withDirLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(dir, '.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new MocoError('INTERNAL', `cannot create ${lock}`, { cause: err });
    }
    const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > LOCK_STALE_MS) {
      await rm(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw failedPrecondition(`${lock} has been held for over ${LOCK_WAIT_MS / 1000} s by another process writing certificates; ` +
        'if none runs, remove the file');
    }
    await sleep(50);
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
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

async function io<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new MocoError('INTERNAL', `cannot ${what}`, { cause: err });
  }
}
