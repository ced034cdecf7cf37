/**
 * The agent daemon: one Agent, its status hub, the gRPC server (mTLS, certificates reloaded when rotated), the
 * coordinator term store and the HTTP server, with an ordered shutdown: not-ready first, stop taking RPCs, let
 * in-flight calls finish within the grace period, then abort the rest (a running clone included), close the MySQL
 * pool, close HTTP last.
 */
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { MocoError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { agentProto, channelOptionsFor, GRPC_CHANNEL_OPTIONS } from '../shared/proto.ts';
import { peerCredentialsFrom, type PkiFiles, type PkiMaterial } from '../shared/tls.ts';
import { clusterUri, type ClusterRef } from '../shared/cluster-identity.ts';
import type { DataChunk__Output } from '../generated/moco/agent/v1/DataChunk.ts';
import { Agent, type AgentOptions } from './agent.ts';
import { receiveInWorker, type UnpackingDonorStream } from './clone/mariadb.ts';
import { buildHttp } from './http.ts';
import { bindServer, createGrpcServer } from './rpc/server.ts';
import { StatusHub } from './watch.ts';
import { AccountKeeper } from './account-keeper.ts';
import { TermStore, termFileFor } from './term.ts';
import { TlsReloader } from './tls-reloader.ts';
import { sweepScratch } from './scratch.ts';
import type { Passwords } from '../shared/accounts.ts';

export interface DaemonOptions extends Omit<AgentOptions, 'logger'> {
  grpcAddress: string;
  httpAddress: { host: string; port: number };
  tls: PkiFiles;
  tools: { mariadbBackup: string; mbstream: string };
  watchIntervalMs: number;
  heartbeatMs: number;
  unreachableMs: number;
  shutdownGraceMs: number;
  logger: Logger;
  /** All eight passwords: the agent re-asserts the accounts with them. Without them it does not. */
  accountPasswords?: Passwords;
  /** Re-assert the accounts this often besides at start and after mysqld restarts (0: only then; default 1 min). */
  accountCheckIntervalMs?: number;
  /** The cluster's namespace (default `default`); with `clusterName`, what every caller's certificate must name. */
  clusterNamespace?: string;
  /** How often the certificate files are checked for a rotated set (default 10 s). */
  tlsReloadIntervalMs?: number;
  /** Where the highest coordinator term is kept (default `<dataDir>/../moco-term`). */
  termFile?: string;
}

export class AgentDaemon {
  readonly agent: Agent;
  readonly hub: StatusHub;
  private readonly grpcServer: grpc.Server;
  private readonly http: FastifyInstance;
  private readonly lifetime = new AbortController();
  private readonly accounts: AccountKeeper | undefined;
  /** The certificate set in use, reloaded when the files change. */
  readonly tls: TlsReloader;
  private terms: TermStore | undefined;
  private draining = false;
  grpcPort = 0;
  httpPort = 0;

  constructor(private readonly o: DaemonOptions) {
    this.agent = new Agent({ ...o, logger: o.logger });
    this.hub = new StatusHub({
      read: (timeoutMs) => this.agent.getStatus(timeoutMs),
      intervalMs: o.watchIntervalMs, heartbeatMs: o.heartbeatMs, unreachableMs: o.unreachableMs,
    });
    const cluster: ClusterRef = { namespace: o.clusterNamespace ?? 'default', name: o.clusterName };
    // Fails here, before anything starts, when the files do not fit together or name another cluster.
    this.tls = new TlsReloader({ files: o.tls, cluster, intervalMs: o.tlsReloadIntervalMs ?? 10_000, log: o.logger.child({ component: 'tls' }) });
    const proto = agentProto();
    this.grpcServer = createGrpcServer({
      agent: this.agent,
      hub: this.hub,
      log: o.logger,
      draining: () => this.draining,
      cluster,
      terms: () => {
        if (!this.terms) throw new MocoError('MYSQLD_UNAVAILABLE', 'the agent is starting');
        return this.terms;
      },
      clone: {
        mariadbBackup: o.tools.mariadbBackup,
        mbstream: o.tools.mbstream,
        lifetime: this.lifetime.signal,
        log: o.logger.child({ component: 'clone' }),
        // Each stream uses the certificate in use when it starts (a rotated one included).
        openDonorStream: (address, signal) => {
          const pem = this.tls.material;
          // The donor is reached by its address (a Pod IP) and known by the cluster its certificate names.
          return donorSource(address, signal, () => new proto.Donor(address, peerCredentialsFrom(pem, cluster), channelOptionsFor(address)), pem, cluster);
        },
      },
    });
    this.http = buildHttp(this.agent, { draining: () => this.draining });
    const passwords = o.accountPasswords;
    if (passwords) {
      this.accounts = new AccountKeeper({
        reassert: () => this.agent.reassertAccounts(passwords),
        generation: () => this.agent.mysqldGeneration(),
        intervalMs: o.accountCheckIntervalMs ?? 60_000,
        log: o.logger.child({ component: 'accounts' }),
        metrics: { checks: o.metrics.accountChecks, repairs: o.metrics.accountRepairs },
      });
    }
  }

  async start(): Promise<void> {
    // What a killed predecessor left (option files with passwords among them) goes before any call is served.
    await sweepScratch(this.o.dataDir, this.o.logger.child({ component: 'agent' }));
    const termFile = this.o.termFile ?? termFileFor(this.o.dataDir);
    this.terms = await TermStore.open(termFile, {
      onRaise: (from, to) => {
        this.o.metrics.coordinatorTerm.set(to);
        this.o.logger.info({ from, to, file: termFile }, 'a newer coordinator term: calls of older terms are refused from now on');
      },
    });
    this.o.metrics.coordinatorTerm.set(this.terms.current);
    this.grpcPort = await bindServer(this.grpcServer, this.o.grpcAddress, this.tls.serverCredentials());
    this.tls.start();
    await this.http.listen({ host: this.o.httpAddress.host, port: this.o.httpAddress.port });
    const addr = this.http.server.address();
    this.httpPort = typeof addr === 'object' && addr ? addr.port : this.o.httpAddress.port;
    this.o.logger.info({
      grpcPort: this.grpcPort, httpPort: this.httpPort, cluster: clusterLabel(this.o), index: this.o.index,
      term: this.terms.current, certSerial: this.tls.serialNumber,
    }, 'agent started');
    if (this.accounts) this.accounts.start();
    else this.o.logger.warn('the accounts are not re-asserted: the agent was not given all eight passwords');
  }

  /** Graceful stop; a second call (second signal) forces it. */
  async stop(): Promise<void> {
    if (this.draining) {
      this.grpcServer.forceShutdown();
      this.lifetime.abort();
      return;
    }
    this.draining = true;
    this.tls.stop();
    await this.accounts?.stop();
    this.hub.close(new MocoError('MYSQLD_UNAVAILABLE', 'the agent is shutting down'));
    const graceful = new Promise<void>((resolve) => this.grpcServer.tryShutdown(() => resolve()));
    const timer = setTimeout(() => {
      this.o.logger.warn('shutdown grace period over; aborting in-flight calls');
      this.lifetime.abort();
      this.grpcServer.forceShutdown();
    }, this.o.shutdownGraceMs);
    await graceful;
    clearTimeout(timer);
    this.lifetime.abort();
    await this.agent.close();
    await this.http.close();
    this.o.logger.info('agent stopped');
  }
}

const clusterLabel = (o: DaemonOptions): string => `${o.clusterNamespace ?? 'default'}/${o.clusterName}`;

/** A proxy for gRPC is configured (grpc-js would use it; the clone receiver's own HTTP/2 client would not). */
function proxyConfigured(): boolean {
  return ['grpc_proxy', 'https_proxy', 'http_proxy'].some((k) => (process.env[k] ?? process.env[k.toUpperCase()] ?? '') !== '');
}

/**
 * A donor's StreamClone: iterable through grpc-js, and (unless a proxy is configured) receivable on a worker
 * thread straight into mbstream (see receiveInWorker), which the MariaDB clone prefers.
 */
function donorSource(address: string, signal: AbortSignal, client: () => DonorClient, pem: PkiMaterial, cluster: ClusterRef): AsyncIterable<Buffer> {
  const chunks: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => donorStream(client(), signal)[Symbol.asyncIterator]() };
  if (proxyConfigured()) return chunks;
  const options = channelOptionsFor(address);
  const host = address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  const unpacking: UnpackingDonorStream = {
    ...chunks,
    unpackInWorker: (u) => receiveInWorker({
      address,
      servername: String(options['grpc.ssl_target_name_override'] ?? host),
      ca: pem.caCert, cert: pem.cert, key: pem.key, clusterUri: clusterUri(cluster.namespace, cluster.name),
      windowBytes: Number(GRPC_CHANNEL_OPTIONS['grpc-node.flow_control_window'] ?? 4 * 1024 * 1024),
    }, u),
  };
  return unpacking;
}

type DonorClient = grpc.Client & { StreamClone: (req: object) => grpc.ClientReadableStream<DataChunk__Output> };

/** Reads a donor's StreamClone as Buffers; cancelling the signal cancels the call. */
async function* donorStream(client: DonorClient, signal: AbortSignal): AsyncIterable<Buffer> {
  const call = client.StreamClone({});
  const onAbort = (): void => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const msg of call as AsyncIterable<DataChunk__Output>) yield msg.data;
  } catch (err) {
    const e = err as grpc.ServiceError;
    const code = e.code === grpc.status.UNAVAILABLE ? 'MYSQLD_UNAVAILABLE' : e.code === grpc.status.RESOURCE_EXHAUSTED ? 'BUSY' : 'INTERNAL';
    throw new MocoError(code, `donor stream failed: ${e.details ?? e.message}`, { cause: err });
  } finally {
    signal.removeEventListener('abort', onAbort);
    client.close();
  }
}
