/**
 * Certificate rotation without a restart. On Kubernetes the certificate files are a mounted Secret that the kubelet
 * replaces in place (an atomic swap of the directory's `..data` symlink) when the controller renews the
 * certificate; restarting the agent would not touch mysqld, but it would drop every call and stream. Instead the
 * agent polls the files, validates a changed set, and hands it to grpc-js:
 *
 * - the gRPC server's credentials come from {@link TlsReloader.serverCredentials}, grpc-js 1.14's
 *   `experimental.createCertificateProviderServerCredentials` with this object as the certificate provider. On
 *   an update grpc-js calls `setSecureContext` on its HTTP/2 server: new connections get the new certificate and
 *   CA, connections already open keep theirs, and the listening socket stays as it is. (grpc-js's own
 *   `FileWatcherCertificateProvider` is not used: it passes unreadable or mismatched files on as "no
 *   certificate", and the server then drops every new connection until the next read.)
 * - clients the agent opens itself (clone donor streams) read {@link TlsReloader.material} for each new stream.
 *
 * A changed set is used only when the key belongs to the certificate, the certificate was issued by the CA file,
 * has not expired, and names this agent's cluster; otherwise the problem is logged (once per distinct content)
 * and the current certificate stays in use.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { clusterMismatch, clusterUrisOfPem, type ClusterRef } from '../shared/cluster-identity.ts';
import { failedPrecondition, messageOf } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { loadPkiFiles, type PkiFiles, type PkiMaterial } from '../shared/tls.ts';

type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

/**
 * Loads the three files and checks they fit together ({@link loadPkiFiles}), that the certificate is within its
 * validity and that it names `own` (this agent's cluster).
 *
 * @throws MocoError INVALID_ARGUMENT as loadPkiFiles; FAILED_PRECONDITION for an expired certificate or one that
 *   does not name this cluster (the message says which cluster it names and which one the agent serves).
 */
export function loadAgentPki(files: PkiFiles, own: ClusterRef, now = Date.now()): PkiMaterial {
  const m = loadPkiFiles(files);
  const cert = new X509Certificate(m.cert);
  if (Date.parse(cert.validTo) <= now) {
    throw failedPrecondition(`the agent's certificate ${files.cert} expired at ${cert.validTo}; renew it`);
  }
  const mismatch = clusterMismatch(clusterUrisOfPem(m.cert, files.cert), own, `the agent's certificate ${files.cert}`);
  if (mismatch !== undefined) throw failedPrecondition(mismatch);
  return m;
}

export interface TlsReloaderOptions {
  files: PkiFiles;
  cluster: ClusterRef;
  /** Poll period. */
  intervalMs: number;
  log: Logger;
}

/** Keeps the agent's current, validated certificate set and tells grpc-js when it changes. */
export class TlsReloader implements grpc.experimental.CertificateProvider {
  private current: PkiMaterial;
  private currentHash: string;
  private rejectedHash: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<boolean> | undefined;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly changeListeners = new Set<(m: PkiMaterial) => void>();

  /** Loads and validates the files now: a bad set fails the agent's start (see {@link loadAgentPki}). */
  constructor(private readonly o: TlsReloaderOptions) {
    this.current = loadAgentPki(o.files, o.cluster);
    this.currentHash = hashOf(this.current);
  }

  /** The certificate set in use: for new client connections. */
  get material(): PkiMaterial {
    return this.current;
  }

  /** The serial number (hex) of the certificate in use. */
  get serialNumber(): string {
    return new X509Certificate(this.current.cert).serialNumber;
  }

  /** Server credentials that require a client certificate from the CA and follow rotations. */
  serverCredentials(): grpc.ServerCredentials {
    // grpc-js 1.14 names the parameters the other way round, but passes the first as the identity provider and
    // the second as the CA provider; this object is both.
    return grpc.experimental.createCertificateProviderServerCredentials(this, this, true);
  }

  /** Calls `fn` with each new set once it is in use. */
  onChange(fn: (m: PkiMaterial) => void): void {
    this.changeListeners.add(fn);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Reads the files and, when they changed and are valid, switches to them. Concurrent calls share one read.
   *
   * @returns true when a new set is now in use.
   */
  check(): Promise<boolean> {
    this.checking ??= this.read().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async read(): Promise<boolean> {
    const f = this.o.files;
    let raw: Buffer[];
    try {
      raw = await Promise.all([readFile(f.caCert), readFile(f.cert), readFile(f.key)]);
    } catch (err) {
      this.reject(`unreadable:${messageOf(err)}`, err);
      return false;
    }
    const hash = hashOf({ caCert: raw[0] as Buffer, cert: raw[1] as Buffer, key: raw[2] as Buffer });
    if (hash === this.currentHash || hash === this.rejectedHash) return false;
    let next: PkiMaterial;
    try {
      // Validates what is on disk now; a swap between the two reads only makes the next poll see it again.
      next = loadAgentPki(f, this.o.cluster);
    } catch (err) {
      this.reject(hash, err);
      return false;
    }
    const from = this.serialNumber;
    this.current = next;
    this.currentHash = hashOf(next);
    this.rejectedHash = undefined;
    for (const l of this.identityListeners) l({ certificate: next.cert, privateKey: next.key });
    for (const l of this.caListeners) l({ caCertificate: next.caCert });
    for (const l of this.changeListeners) l(next);
    this.o.log.info({ fromSerial: from, toSerial: this.serialNumber, cert: f.cert }, 'switched to the rotated certificate');
    return true;
  }

  private reject(key: string, err: unknown): void {
    if (key === this.rejectedHash) return; // said once per distinct content
    this.rejectedHash = key;
    this.o.log.warn({ err, cert: this.o.files.cert, serial: this.serialNumber },
      'the certificate files changed but cannot be used; the current certificate stays in use');
  }

  // grpc-js CertificateProvider: the current set goes to each new listener on the next tick, after grpc-js has
  // registered the server that listens (it adds the provider's listeners before its own watcher).
  addCaCertificateListener(l: CaListener): void {
    this.caListeners.add(l);
    process.nextTick(() => {
      if (this.caListeners.has(l)) l({ caCertificate: this.current.caCert });
    });
  }
  removeCaCertificateListener(l: CaListener): void {
    this.caListeners.delete(l);
  }
  addIdentityCertificateListener(l: IdentityListener): void {
    this.identityListeners.add(l);
    process.nextTick(() => {
      if (this.identityListeners.has(l)) l({ certificate: this.current.cert, privateKey: this.current.key });
    });
  }
  removeIdentityCertificateListener(l: IdentityListener): void {
    this.identityListeners.delete(l);
  }
}

function hashOf(m: PkiMaterial): string {
  const h = createHash('sha256');
  for (const b of [m.caCert, m.cert, m.key]) h.update(String(b.length)).update(':').update(b);
  return h.digest('hex');
}
