/**
 * A promise-based client of one agent, for the coordinator, the CLI and tests. Every call has a deadline;
 * gRPC errors become MocoErrors with the matching code, so callers branch on `code`, not on gRPC.
 */
import * as grpc from '@grpc/grpc-js';
import { MocoError, type ErrorCode } from './errors.ts';
import { agentProto, channelOptionsFor } from './proto.ts';
import { checkTerm, TERM_METADATA_KEY } from './term.ts';
import { clientCredentials, type PkiFiles } from './tls.ts';
import type { AgentClient as RawAgentClient } from '../generated/moco/agent/v1/Agent.ts';
import type { InstanceStatus__Output } from '../generated/moco/agent/v1/InstanceStatus.ts';
import type { StatusEvent__Output } from '../generated/moco/agent/v1/StatusEvent.ts';
import type { ConfigureReplicaRequest } from '../generated/moco/agent/v1/ConfigureReplicaRequest.ts';
import type { CloneRequest } from '../generated/moco/agent/v1/CloneRequest.ts';
import type { CloneResponse__Output } from '../generated/moco/agent/v1/CloneResponse.ts';
import type { BackupRequest } from '../generated/moco/agent/v1/BackupRequest.ts';
import type { BackupResult__Output } from '../generated/moco/agent/v1/BackupResult.ts';
import type { RestoreRequest } from '../generated/moco/agent/v1/RestoreRequest.ts';
import type { RestoreResult__Output } from '../generated/moco/agent/v1/RestoreResult.ts';

export type { InstanceStatus__Output as InstanceStatus, StatusEvent__Output as StatusEvent };
export type { BackupRequest, BackupResult__Output as BackupResult, RestoreRequest, RestoreResult__Output as RestoreResult };

/** A progress message of a long server stream (Backup, Restore). */
export interface Progress {
  phase: string;
  bytes: number;
}

const FROM_GRPC: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [grpc.status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [grpc.status.RESOURCE_EXHAUSTED]: 'BUSY',
  [grpc.status.DEADLINE_EXCEEDED]: 'TIMEOUT',
  [grpc.status.UNAVAILABLE]: 'MYSQLD_UNAVAILABLE',
  [grpc.status.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [grpc.status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [grpc.status.CANCELLED]: 'CANCELLED',
  [grpc.status.NOT_FOUND]: 'NOT_FOUND',
};

/** Converts a gRPC error into a MocoError that keeps the server's message. */
export function fromGrpcError(err: unknown, what: string): MocoError {
  const e = err as grpc.ServiceError;
  const code = FROM_GRPC[e.code] ?? 'INTERNAL';
  return new MocoError(code, `${what}: ${e.details || e.message}`, { cause: err });
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export interface AgentClientOptions {
  /**
   * The name the agent's certificate must carry (Kubernetes: the Pod's headless FQDN, since agents are dialled by
   * Pod IP); default: the dialled host, or `localhost` for an IP.
   */
  serverName?: string;
  /**
   * The caller's coordinator term, read at every call and sent as the `moco-term` metadata (Kubernetes: the
   * leader Lease's `leaseTransitions`). Without it calls carry no term, which agents count as 0 (local clusters).
   * An agent refuses a state-changing call whose term is lower than the highest it has seen, with
   * FAILED_PRECONDITION: a newer coordinator is in charge and this one must stop.
   */
  term?: () => number;
}

export class AgentClient {
  readonly raw: RawAgentClient;
  private readonly term: (() => number) | undefined;

  constructor(readonly address: string, tls: PkiFiles | grpc.ChannelCredentials, options: AgentClientOptions = {}) {
    this.term = options.term;
    const creds = tls instanceof grpc.ChannelCredentials ? tls : clientCredentials(tls);
    const proto = agentProto();
    const channel = options.serverName
      ? { ...channelOptionsFor(address), 'grpc.ssl_target_name_override': options.serverName }
      : channelOptionsFor(address);
    this.raw = new proto.Agent(address, creds, channel) as unknown as RawAgentClient;
  }

  /** The metadata every call carries: the term, when the client has one. */
  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.term) md.set(TERM_METADATA_KEY, String(checkTerm(this.term(), 'the coordinator term')));
    return md;
  }

  private unary<Req, Res>(method: string, req: Req, options: CallOptions = {}): Promise<Res> {
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    return new Promise<Res>((resolve, reject) => {
      const md = this.metadata(); // a bad term rejects the call
      const fn = (this.raw as unknown as Record<string, (r: Req, m: grpc.Metadata, o: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall>)[method];
      if (!fn) throw new Error(`unknown method ${method}`);
      const call = fn.call(this.raw, req, md, { deadline }, (err, res) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(fromGrpcError(err, `${method} on ${this.address}`));
        else resolve(res as Res);
      });
      const onAbort = (): void => call.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  getStatus(o?: CallOptions): Promise<InstanceStatus__Output> {
    return this.unary('GetStatus', {}, o);
  }
  configurePrimary(waitForReplicaCount: number, o?: CallOptions): Promise<{ changed: boolean; effectiveWaitCount: number }> {
    return this.unary('ConfigurePrimary', { waitForReplicaCount }, o);
  }
  configureReplica(req: ConfigureReplicaRequest, o?: CallOptions): Promise<{ changed: boolean }> {
    return this.unary('ConfigureReplica', req, o);
  }
  stopReplicaIO(o?: CallOptions): Promise<{ changed: boolean }> {
    return this.unary('StopReplicaIO', {}, o);
  }
  waitForGtid(gtidSet: string, timeoutMs: number, o?: CallOptions): Promise<{ waitedMs: number }> {
    return this.unary('WaitForGtid', { gtidSet, timeoutMs }, { timeoutMs: timeoutMs + 5000, ...o });
  }
  setReadOnly(o?: CallOptions): Promise<{ changed: boolean }> {
    return this.unary('SetReadOnly', {}, o);
  }
  setWritable(o?: CallOptions): Promise<{ changed: boolean }> {
    return this.unary('SetWritable', {}, o);
  }
  killConnections(o?: CallOptions): Promise<{ killed: number }> {
    return this.unary('KillConnections', {}, o);
  }
  flushBinlogs(o?: CallOptions): Promise<{ binlogFile: string }> {
    return this.unary('FlushBinlogs', {}, o);
  }
  clone(req: CloneRequest, o?: CallOptions): Promise<CloneResponse__Output> {
    return this.unary('Clone', req, { timeoutMs: 30 * 60_000, ...o });
  }

  /** Runs a server stream whose last message carries `result`; earlier messages are progress. No deadline. */
  private progressStream<Req, R>(method: string, req: Req, onProgress: (p: Progress) => void, signal?: AbortSignal): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const md = this.metadata();
      const fn = (this.raw as unknown as Record<string, (r: Req, m: grpc.Metadata) => grpc.ClientReadableStream<{ phase: string; bytes: string; result: R | null }>>)[method];
      if (!fn) throw new Error(`unknown method ${method}`);
      const call = fn.call(this.raw, req, md);
      let result: R | undefined;
      const onAbort = (): void => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      call.on('data', (m: { phase: string; bytes: string; result: R | null }) => {
        if (m.result) result = m.result;
        else onProgress({ phase: m.phase, bytes: Number(m.bytes) });
      });
      call.on('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(fromGrpcError(err, `${method} on ${this.address}`));
      });
      call.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        if (result !== undefined) resolve(result);
        else reject(new MocoError('INTERNAL', `${method} on ${this.address} ended without a result`));
      });
    });
  }

  /** Backup: a full backup (and the binlogs since the previous one) to object storage. */
  backup(req: BackupRequest, onProgress: (p: Progress) => void, signal?: AbortSignal): Promise<BackupResult__Output> {
    return this.progressStream('Backup', req, onProgress, signal);
  }
  /** Restore: a backup into this (empty) instance, binlogs replayed up to the restore point. */
  restore(req: RestoreRequest, onProgress: (p: Progress) => void, signal?: AbortSignal): Promise<RestoreResult__Output> {
    return this.progressStream('Restore', req, onProgress, signal);
  }

  /** Opens WatchStatus; `onEvent` gets each message, `onEnd` the error (or undefined) that ended it. */
  watchStatus(onEvent: (e: StatusEvent__Output) => void, onEnd: (err: MocoError | undefined) => void): () => void {
    const call = this.raw.WatchStatus({}, this.metadata());
    let ended = false;
    const end = (err: MocoError | undefined): void => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    call.on('data', onEvent);
    call.on('error', (err) => end(fromGrpcError(err, `WatchStatus on ${this.address}`)));
    call.on('end', () => end(undefined));
    return () => {
      ended = true;
      call.cancel();
    };
  }

  close(): void {
    this.raw.close();
  }
}
