/**
 * The agent's gRPC services: each method is a thin adapter that checks the caller (its certificate names this
 * cluster, its CN may call the method: authorize.ts) and, for a coordinator, its term (term.ts), times the call,
 * logs it with an operation id, runs one Agent method and maps errors to gRPC codes.
 * Backup and Restore load their modules (and the object-storage SDK) on first use: most agents never run them,
 * and loading them at start-up costs memory for the agent's whole life.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { MocoError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ClusterRef } from '../../shared/cluster-identity.ts';
import { TERM_METADATA_KEY, termFromMetadata } from '../../shared/term.ts';
import { peerInfo } from '../../shared/tls.ts';
import { agentProto } from '../../shared/proto.ts';
import type { AgentHandlers } from '../../generated/moco/agent/v1/Agent.ts';
import type { DonorHandlers } from '../../generated/moco/agent/v1/Donor.ts';
import type { Agent } from '../agent.ts';
import { runClone, type CloneDeps } from '../clone/clone.ts';
import { encodedChunkSerializer, sendDataChunks, startBackupStream, type ChunkSink } from '../clone/donor.ts';
import { acquireExclusive } from '../backup/exclusive.ts';
import type { StatusHub } from '../watch.ts';
import type { TermStore } from '../term.ts';
import { codeName, toGrpcError } from './status.ts';
import { authorizeCall, fencedByTerm, RPC_POLICY, type RpcMethod } from './authorize.ts';

export interface RpcDeps {
  agent: Agent;
  hub: StatusHub;
  clone: CloneDeps;
  log: Logger;
  /** Set while shutting down: new calls are refused with UNAVAILABLE. */
  draining: () => boolean;
  /** The cluster this agent serves: every caller's certificate must name it. */
  cluster: ClusterRef;
  /** The coordinator term store (opened when the daemon starts, before the server takes calls). */
  terms: () => TermStore;
}

type Call = { getAuthContext?: () => unknown; metadata: grpc.Metadata };

/**
 * Donor stream message size: the tool's pipe reads are 64 KiB; 1 MiB messages cut per-message overhead on both
 * agents.
 */
const STREAM_MESSAGE_BYTES = 1024 * 1024;
const noop = (): void => undefined;

/**
 * Ends a server stream with an error status. In grpc-js, emitting 'error' records the status and ends the
 * stream; destroy() would drop the call without ever sending the status to the client.
 */
function endWithError(call: grpc.ServerWritableStream<unknown, unknown>, err: unknown): void {
  if (!call.writableEnded) call.emit('error', toGrpcError(err));
}

export function buildServices(d: RpcDeps): { agent: AgentHandlers; donor: DonorHandlers } {
  const log = d.log.child({ component: 'rpc' });
  const { agent } = d;

  /**
   * Every call's entry: refused while draining; the caller's certificate must name this cluster and its CN may call
   * `method` (authorize.ts); a coordinator's call then passes the term fence (term.ts). Returns the caller and
   * the release of the call's hold on its term (a no-op unless the method holds it for the whole call).
   */
  async function admit(call: Call, method: RpcMethod, signal?: AbortSignal): Promise<{ who: string; release: () => void }> {
    if (d.draining()) throw new MocoError('MYSQLD_UNAVAILABLE', 'the agent is shutting down');
    const who = authorizeCall(peerInfo(call as Parameters<typeof peerInfo>[0]), method, d.cluster);
    if (!fencedByTerm(who)) return { who, release: noop };
    const term = termFromMetadata(call.metadata.get(TERM_METADATA_KEY));
    const fence = RPC_POLICY[method].fence;
    if (fence === 'none') {
      await d.terms().observe(term);
      return { who, release: noop };
    }
    const release = await d.terms().admit(term, signal);
    if (fence === 'start') {
      release();
      return { who, release: noop };
    }
    return { who, release };
  }

  function unary<Req, Res>(method: RpcMethod, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>) {
    return (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
      const started = process.hrtime.bigint();
      // Runs after the reply is handed to grpc-js: metrics and logging do not delay it.
      const finish = (seconds: number, code: grpc.status | undefined, err?: unknown): void => {
        agent.options.metrics.rpcDuration.observe({ method, code: codeName(code) }, seconds);
        if (err === undefined && method === 'GetStatus') return; // polled often: not logged
        // An operation id to find the call's lines in the log (made only when there is something to log).
        const op = randomBytes(4).toString('hex');
        if (err !== undefined) {
          const level = err instanceof MocoError && err.code !== 'INTERNAL' ? 'warn' : 'error';
          log[level]({ op, method, err, ms: Math.round(seconds * 1000) }, 'rpc failed');
        } else {
          log.info({ op, method, ms: Math.round(seconds * 1000) }, 'rpc done');
        }
      };
      (async () => {
        // The caller's deadline or cancellation ends a wait for older coordinators' calls (term.ts).
        const ac = new AbortController();
        call.on('cancelled', () => ac.abort());
        const { release } = await admit(call, method, ac.signal);
        try {
          return await fn(call.request, call);
        } finally {
          release();
        }
      })().then(
        (res) => {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          callback(null, res);
          finish(seconds, undefined);
        },
        (err: unknown) => {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const g = toGrpcError(err);
          callback(g);
          finish(seconds, g.code, err);
        },
      );
    };
  }

  /**
   * A server stream that runs `fn` with the call's cancellation as its signal, sends its progress messages and
   * ends with its result (or an error status).
   */
  function streaming<Req, P, R>(method: RpcMethod, fn: (req: Req, signal: AbortSignal, progress: (p: P) => void) => Promise<R>,
    wrap: (r: R) => unknown, wrapProgress: (p: P) => unknown) {
    return (call: grpc.ServerWritableStream<Req, unknown>): void => {
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      const started = process.hrtime.bigint();
      void (async () => {
        await admit(call, method, ac.signal);
        let last = 0;
        let lastPhase: unknown;
        const result = await fn(call.request, ac.signal, (p) => {
          // At most two messages a second within a phase; a new phase is always sent.
          const now = Date.now();
          const phase = (p as { phase?: unknown }).phase;
          if (now - last < 500 && phase === lastPhase) return;
          last = now;
          lastPhase = phase;
          if (!call.cancelled && !call.writableEnded) call.write(wrapProgress(p));
        });
        if (!call.cancelled && !call.writableEnded) {
          call.write(wrap(result));
          call.end();
        }
        agent.options.metrics.rpcDuration.observe({ method, code: 'OK' }, Number(process.hrtime.bigint() - started) / 1e9);
      })().catch((err: unknown) => {
        const g = toGrpcError(err);
        agent.options.metrics.rpcDuration.observe({ method, code: codeName(g.code) }, Number(process.hrtime.bigint() - started) / 1e9);
        log.warn({ method, err }, 'rpc failed');
        endWithError(call, err);
      });
    };
  }
  const agentHandlers: AgentHandlers = {
    GetStatus: unary('GetStatus', async () => agent.getStatus()),
    WatchStatus: (call) => {
      void admit(call, 'WatchStatus').then(() => {
        if (call.cancelled) return;
        const unsubscribe = d.hub.subscribe({
          onStatus: (status, heartbeat) => {
            call.write({ status, heartbeat });
          },
          onError: (err) => endWithError(call, err),
        });
        call.on('cancelled', unsubscribe);
        call.on('close', unsubscribe);
        call.on('error', unsubscribe);
      }, (err: unknown) => endWithError(call, err));
    },
    ConfigurePrimary: unary('ConfigurePrimary', async (req) => {
      const r = await agent.configurePrimary(req.waitForReplicaCount);
      return { changed: r.changed, effectiveWaitCount: r.effectiveWaitCount };
    }),
    ConfigureReplica: unary('ConfigureReplica', async (req) => ({ changed: await agent.configureReplica(req) })),
    StopReplicaIO: unary('StopReplicaIO', async () => ({ changed: await agent.stopReplicaIO() })),
    WaitForGtid: unary('WaitForGtid', async (req, call) => {
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      return { waitedMs: await agent.waitForGtid(req.gtidSet, req.timeoutMs, ac.signal) };
    }),
    SetReadOnly: unary('SetReadOnly', async () => ({ changed: await agent.setReadOnly() })),
    SetWritable: unary('SetWritable', async () => ({ changed: await agent.setWritable() })),
    KillConnections: unary('KillConnections', async () => ({ killed: await agent.killConnections() })),
    FlushBinlogs: unary('FlushBinlogs', async () => ({ binlogFile: await agent.flushBinlogs() })),
    Clone: unary('Clone', async (req) => {
      const r = await runClone(agent, req, d.clone);
      return { bytesTransferred: String(r.bytesTransferred), durationMs: r.durationMs, gtid: r.gtid };
    }),
    Backup: streaming('Backup',
      async (req: Parameters<AgentHandlers['Backup']>[0]['request'], signal, progress: (p: { phase: string; bytes: number }) => void) => {
        const [{ runBackup }, { openBucket }] = await Promise.all([import('../backup/backup.ts'), import('../../backup/storage/index.ts')]);
        return runBackup(agent, req, { mariadbBackup: d.clone.mariadbBackup, openBucket, log }, signal, progress);
      },
      (result) => ({ phase: 'done', bytes: String(result.dumpSize ?? 0), result }),
      (p) => ({ phase: p.phase, bytes: String(p.bytes) })),
    Restore: streaming('Restore',
      async (req: Parameters<AgentHandlers['Restore']>[0]['request'], signal, progress: (p: { phase: string; bytes: number }) => void) => {
        const [{ runRestore }, { openBucket }] = await Promise.all([import('../backup/restore.ts'), import('../../backup/storage/index.ts')]);
        return runRestore(agent, req, { mariadbBackup: d.clone.mariadbBackup, mbstream: d.clone.mbstream, openBucket, lifetime: d.clone.lifetime, log }, signal, progress);
      },
      (result) => ({ phase: 'done', bytes: String(result.downloadedBytes ?? 0), result }),
      (p) => ({ phase: p.phase, bytes: String(p.bytes) })),
  };

  const donorHandlers: DonorHandlers = {
    StreamClone: (call) => {
      void (async () => {
        const { who } = await admit(call, 'StreamClone');
        // One mariadb-backup at a time per instance: a donor stream excludes a backup and another stream.
        const release = acquireExclusive(agent, 'a clone donor stream');
        try {
          const o = agent.options;
          const backup = await startBackupStream({
            mariadbBackup: d.clone.mariadbBackup, myCnfPath: o.myCnfPath, socketPath: o.socketPath,
            dataDir: o.dataDir, user: 'moco-clone-donor', password: o.passwords.cloneDonor,
          });
          log.info({ caller: who }, 'donor stream started');
          // A cancelled call never calls back its pending writes: stop waiting for them, and stop the tool.
          const ac = new AbortController();
          const stop = (): void => {
            ac.abort();
            backup.stop();
          };
          call.on('cancelled', stop);
          call.on('close', () => ac.abort());
          try {
            // End the call only after the tool has exited 0: a stream cut short must never look complete.
            await Promise.all([sendDataChunks(backup.stream, call as unknown as ChunkSink, STREAM_MESSAGE_BYTES, ac.signal), backup.done]);
            call.end();
          } catch (err) {
            stop();
            await backup.done.catch(() => undefined);
            throw err;
          }
          log.info({ caller: who }, 'donor stream finished');
        } finally {
          release();
        }
      })().catch((err: unknown) => {
        log.warn({ err }, 'donor stream failed');
        endWithError(call, err);
      });
    },
  };
  return { agent: agentHandlers, donor: donorHandlers };
}

/** Creates the gRPC server with both services (not yet bound). */
export function createGrpcServer(d: RpcDeps): grpc.Server {
  const server = new grpc.Server({
    'grpc-node.flow_control_window': 4 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5000,
  } as grpc.ServerOptions);
  const proto = agentProto();
  const services = buildServices(d);
  server.addService(proto.Agent.service, services.agent as unknown as grpc.UntypedServiceImplementation);
  // StreamClone writes DataChunk messages it encoded itself (see sendDataChunks): saves a copy of every byte.
  const streamClone = proto.Donor.service.StreamClone;
  const donorService = {
    ...proto.Donor.service,
    StreamClone: { ...streamClone, responseSerialize: encodedChunkSerializer(streamClone.responseSerialize as (value: unknown) => Buffer) },
  };
  server.addService(donorService, services.donor as unknown as grpc.UntypedServiceImplementation);
  return server;
}

/** Binds and resolves with the port actually bound (useful with port 0). */
export function bindServer(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}
