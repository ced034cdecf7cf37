/**
 * The recipient side of a MariaDB clone: receive the donor's xbstream, unpack it with mbstream into the
 * staging directory, prepare it with mariadb-backup, give it a new instance id and the GTID position it ends
 * at, mark it complete, and restart mysqld so that the run-mysqld contract swaps it in.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { MocoError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Db } from '../db.ts';
import { markStagedComplete, stagedDirOf } from '../datadir.ts';
import { writeNewInstanceId } from '../instance-id.ts';
import { exited, run, tailLines } from '../../shared/tools.ts';
import { applyPendingGtid, writePendingGtid } from './pending-gtid.ts';
import { restartMysqld } from './restart.ts';
import type { CloneTracker } from './tracker.ts';

export interface MariadbCloneOptions {
  db: Db;
  dataDir: string;
  mariadbBackup: string;
  mbstream: string;
  /** Opens the donor's stream (Donor.StreamClone). */
  openDonorStream: (signal: AbortSignal) => AsyncIterable<Buffer>;
  bootTimeoutMs: number;
  tracker: CloneTracker;
  log: Logger;
  signal: AbortSignal;
}

/** Reads the GTID position from mariadb-backup's binlog info file (10.11 and newer names). */
export async function readBackupGtid(dir: string): Promise<string> {
  for (const name of ['mariadb_backup_binlog_info', 'xtrabackup_binlog_info']) {
    try {
      const text = (await fs.readFile(path.join(dir, name), 'utf8')).trim();
      // "binlog.000001\t206871486\t0-2-104" (the GTID column is absent when the donor never binlogged)
      return text.split(/\s+/)[2] ?? '';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return '';
}

/**
 * A donor stream that can also be received and unpacked on a worker thread (see {@link receiveInWorker}); the
 * agent's own donor streams offer it, plain iterables (tests) do not.
 */
export interface UnpackingDonorStream extends AsyncIterable<Buffer> {
  unpackInWorker(o: { mbstream: string; dir: string; onBytes: (n: number) => void; signal: AbortSignal }): Promise<UnpackResult>;
}

export interface UnpackResult {
  /** mbstream's exit code. */
  code: number;
  /** Its last stderr lines. */
  tail: string;
}

/**
 * mbstream extracting into `dir` with two writer threads: the copy into the page cache is the costliest part of
 * unpacking (on the development VM, memory not touched before makes it about 300 MB/s per core), so two writers
 * keep up with the stream better than one (1.2 GB: streaming 5.2-6.8 s in four runs against 6.3-6.5 s in two;
 * four writers were slower on two cores).
 */
function mbstreamArgs(dir: string): string[] {
  return ['-p', '2', '-x', '-C', dir];
}

function canUnpackInWorker(s: AsyncIterable<Buffer>): s is UnpackingDonorStream {
  return typeof (s as Partial<UnpackingDonorStream>).unpackInWorker === 'function';
}

async function receive(o: MariadbCloneOptions, staged: string): Promise<void> {
  const stream = o.openDonorStream(o.signal);
  if (canUnpackInWorker(stream)) {
    const r = await stream.unpackInWorker({ mbstream: o.mbstream, dir: staged, onBytes: (n) => o.tracker.addBytes(n), signal: o.signal });
    if (r.code !== 0) throw new MocoError('INTERNAL', `mbstream failed to unpack the clone (exit ${r.code}): ${r.tail}`);
    return;
  }
  const unpack = spawn(o.mbstream, mbstreamArgs(staged), { stdio: ['pipe', 'ignore', 'pipe'] });
  const tail = tailLines(unpack);
  const unpacked = exited(unpack);
  try {
    for await (const chunk of stream) {
      o.tracker.addBytes(chunk.length);
      if (!unpack.stdin.write(chunk)) await once(unpack.stdin, 'drain', { signal: o.signal });
    }
    unpack.stdin.end();
  } catch (err) {
    unpack.kill('SIGTERM');
    await unpacked.catch(() => undefined);
    throw err;
  }
  const code = await unpacked;
  if (code !== 0) throw new MocoError('INTERNAL', `mbstream failed to unpack the clone (exit ${code}): ${tail()}`);
}

/** Where and how to reach the donor's Donor.StreamClone, for {@link receiveInWorker}. */
export interface DonorEndpoint {
  /** host:port of the donor's agent. */
  address: string;
  /** The name its certificate must hold (the channels' ssl_target_name_override, else the host). */
  servername: string;
  /**
   * When set, the donor's certificate is checked by the cluster it names (exactly this `moco://` URI) instead of by
   * `servername`: the donor is reached by a Pod IP no certificate lists.
   */
  clusterUri?: string;
  /** PEM: the cluster CA, this agent's certificate and key (mutual TLS, as the gRPC channels use). */
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** HTTP/2 flow-control window, stream and connection (as grpc-node.flow_control_window). */
  windowBytes: number;
}

/** What the worker posts back. */
type WorkerMessage =
  | { type: 'progress'; bytes: number }
  | { type: 'done'; code: number; tail: string }
  | { type: 'failed'; grpcStatus: number; message: string; code?: number; tail?: string };

const GRPC_CANCELLED = 1;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;

/**
 * Receives Donor.StreamClone and pipes the bytes into `mbstream -x` on a worker thread, with Node's HTTP/2
 * client speaking the gRPC wire format for this one server stream (a request frame, DataChunk frames, the
 * grpc-status trailer).
 *
 * Why a worker: Node allocates a buffer for every TLS record it reads (16 KiB), and V8 counts those buffers
 * against the old-generation limit, so a bulk download runs a full garbage collection every 20 MB or so (59 of
 * them for a 1.2 GB clone). Each one marks the agent's whole heap (about 25 MB: the bundle's code and objects)
 * on helper threads that compete with mbstream, the backup tool and both mysqld for the cores; on a worker's heap
 * of a few MB they cost little. Measured on the 2-core development machine for 1.2 GB: the recipient agent's
 * CPU fell from 4.1-4.8 s to 2.5-3.0 s. The agent's own event loop also stays free for status calls.
 */
export function receiveInWorker(e: DonorEndpoint, o: { mbstream: string; dir: string; onBytes: (n: number) => void; signal: AbortSignal }): Promise<UnpackResult> {
  if (o.signal.aborted) return Promise.reject(new MocoError('CANCELLED', 'the clone was cancelled before the donor stream started'));
  const worker = new Worker(RECEIVER_SOURCE, {
    eval: true,
    execArgv: [],
    // Its own young generation, whatever the agent process's flags (AGENT_NODE_FLAGS): 16 MB semi-spaces, so
    // the stream's per-record buffers die young.
    resourceLimits: { maxYoungGenerationSizeMb: 48 },
    workerData: { ...e, mbstream: o.mbstream, mbstreamArgs: mbstreamArgs(o.dir), progressBytes: 8 * 1024 * 1024 },
  });
  return new Promise<UnpackResult>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, r?: UnpackResult): void => {
      if (settled) return;
      settled = true;
      o.signal.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (err) reject(err);
      else resolve(r as UnpackResult);
    };
    const onAbort = (): void => worker.postMessage({ type: 'cancel' });
    o.signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') o.onBytes(m.bytes);
      else if (m.type === 'done') finish(undefined, { code: m.code, tail: m.tail });
      else if (m.grpcStatus === GRPC_CANCELLED && o.signal.aborted) finish(new MocoError('CANCELLED', 'the clone was cancelled'));
      else if (m.code !== undefined && m.code !== 0) {
        // mbstream gave up first (disk full, bad stream): its own words say why.
        finish(new MocoError('INTERNAL', `mbstream failed to unpack the clone (exit ${m.code}): ${m.tail ?? ''}`));
      } else {
        const code = m.grpcStatus === GRPC_UNAVAILABLE ? 'MYSQLD_UNAVAILABLE' : m.grpcStatus === GRPC_RESOURCE_EXHAUSTED ? 'BUSY' : 'INTERNAL';
        finish(new MocoError(code, `donor stream failed: ${m.message}`));
      }
    });
    worker.on('error', (err) => finish(new MocoError('INTERNAL', `the clone receiver failed: ${err.message}`, { cause: err })));
    worker.on('exit', (c) => finish(new MocoError('INTERNAL', `the clone receiver stopped (exit ${c}) before the stream ended`)));
  });
}

/**
 * The worker's code. It runs in a worker of its own (eval), so it may use nothing from this module: only what
 * `load` imports and workerData. Kept as a function so that it is type-checked and linted.
 */
async function cloneReceiver(load: (id: string) => Promise<unknown>): Promise<void> {
  const { workerData, parentPort } = await load('node:worker_threads') as typeof import('node:worker_threads');
  const http2 = await load('node:http2') as typeof import('node:http2');
  const { spawn: spawnChild } = await load('node:child_process') as typeof import('node:child_process');
  const d = workerData as DonorEndpoint & { mbstream: string; mbstreamArgs: string[]; progressBytes: number };
  const port = parentPort as NonNullable<typeof parentPort>;
  const CANCELLED = 1;
  const INTERNAL = 13;
  const UNAVAILABLE = 14;

  let ended = false;
  let received = 0;
  let reported = 0;
  const report = (): void => {
    port.postMessage({ type: 'progress', bytes: received - reported });
    reported = received;
  };

  // mbstream, with the last lines of its stderr for error messages.
  const lines: string[] = [];
  let partial = '';
  const tail = (): string => [...lines, partial].filter((l) => l.trim() !== '').slice(-20).join('\n');
  const unpack = spawnChild(d.mbstream, d.mbstreamArgs, { stdio: ['pipe', 'ignore', 'pipe'] });
  unpack.stderr.setEncoding('utf8');
  unpack.stderr.on('data', (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length > 20) lines.splice(0, lines.length - 20);
  });
  let unpackExited = false;
  const exited = new Promise<number>((resolve) => {
    unpack.once('error', (err) => {
      lines.push(`cannot run ${d.mbstream}: ${err.message}`);
      resolve(127);
    });
    unpack.once('close', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
  // A write after mbstream died fails with EPIPE; its exit (below) reports the failure.
  unpack.stdin.on('error', () => undefined);

  const session = http2.connect(`https://${d.address}`, {
    ca: d.ca, cert: d.cert, key: d.key, servername: d.servername,
    // The worker cannot import the shared helpers (see `load`): the same rule as clusterServerIdentity, inline.
    ...(d.clusterUri ? {
      checkServerIdentity: (host: string, cert: { subjectaltname?: string }): Error | undefined => {
        const uris = (cert.subjectaltname ?? '').split(', ').filter((e) => e.startsWith('URI:moco://')).map((e) => e.slice(4));
        return uris.length === 1 && uris[0] === d.clusterUri ? undefined
          : new Error(`the certificate of the donor at ${host} names ${uris.length ? uris.join(', ') : 'no cluster'}, not ${d.clusterUri}`);
      },
    } : {}),
    settings: { initialWindowSize: d.windowBytes },
    maxSessionMemory: 1024,
  });
  session.once('remoteSettings', () => session.setLocalWindowSize(d.windowBytes));
  const req = session.request({
    ':method': 'POST', ':path': '/moco.agent.v1.Donor/StreamClone', 'content-type': 'application/grpc', te: 'trailers',
    'grpc-accept-encoding': 'identity', 'user-agent': 'moco-agent-clone-receiver',
  });
  // Keepalive, as the gRPC channels: a donor that does not answer a ping within 5 s is gone.
  const keepalive = setInterval(() => {
    const timeout = setTimeout(() => fail(UNAVAILABLE, 'the donor did not answer a keepalive ping'), 5000);
    session.ping((err) => {
      clearTimeout(timeout);
      if (err) fail(UNAVAILABLE, `keepalive ping failed: ${err.message}`);
    });
  }, 10_000);

  /** Ends everything; reports mbstream's exit code only when it exited on its own. */
  function fail(grpcStatus: number, message: string): void {
    if (ended) return;
    ended = true;
    clearInterval(keepalive);
    const ownExit = unpackExited;
    req.close(http2.constants.NGHTTP2_CANCEL);
    session.destroy();
    unpack.kill('SIGTERM');
    void exited.then((code) => port.postMessage({ type: 'failed', grpcStatus, message, code: ownExit ? code : undefined, tail: tail() }));
  }
  void exited.then((code) => {
    unpackExited = true;
    if (!ended) fail(INTERNAL, `mbstream exited (${code}) before the stream ended`);
  });
  port.on('message', (m: { type: string }) => {
    if (m.type === 'cancel') fail(CANCELLED, 'cancelled');
  });
  session.on('error', (err) => fail(UNAVAILABLE, err.message));
  req.on('error', (err) => fail(UNAVAILABLE, err.message));
  req.on('close', () => fail(UNAVAILABLE, 'the donor stream closed without a status'));

  // An empty StreamCloneRequest: not compressed, length 0.
  req.end(Buffer.alloc(5));

  let status: number | undefined;
  let statusMessage = '';
  const readStatus = (h: Record<string, unknown>): void => {
    if (h['grpc-status'] === undefined) return;
    status = Number(h['grpc-status']);
    try {
      statusMessage = decodeURIComponent(String(h['grpc-message'] ?? ''));
    } catch {
      statusMessage = String(h['grpc-message'] ?? '');
    }
  };
  req.on('response', (h) => {
    if (h[':status'] !== 200) fail(UNAVAILABLE, `the donor answered HTTP ${String(h[':status'])}`);
    else readStatus(h); // a trailers-only response carries the status here
  });
  req.on('trailers', readStatus);

  // The gRPC framing, byte by byte across chunks: a 5-byte prefix (compressed flag, length), then one
  // DataChunk: tag 0x0a (field 1, length-delimited), a varint length, the payload (forwarded as it comes).
  let state: 'prefix' | 'tag' | 'length' | 'payload' = 'prefix';
  const prefix = Buffer.alloc(5);
  let prefixFill = 0;
  let messageLeft = 0;
  let length = 0;
  let shift = 0;
  let payloadLeft = 0;
  // Each chunk is one TLS record (16 KiB at most): the writes of one turn of the event loop go to mbstream in
  // one writev, and the stream pauses only when 4 MiB wait for mbstream (its pipe takes far less at a time).
  const PAUSE_BYTES = 4 * 1024 * 1024;
  let waiting = false;
  let corked = false;
  const resume = (): void => {
    waiting = false;
    req.resume();
  };
  const uncork = (): void => {
    corked = false;
    unpack.stdin.uncork();
  };
  req.on('data', (chunk: Buffer) => {
    if (!corked) {
      corked = true;
      unpack.stdin.cork();
      setImmediate(uncork);
    }
    let at = 0;
    while (at < chunk.length && !ended) {
      if (state === 'prefix') {
        prefix[prefixFill++] = chunk[at++] as number;
        if (prefixFill < 5) continue;
        prefixFill = 0;
        if (prefix[0] !== 0) return fail(INTERNAL, 'the donor sent a compressed message');
        messageLeft = prefix.readUInt32BE(1);
        if (messageLeft > 0) state = 'tag';
      } else if (state === 'tag') {
        messageLeft--;
        if (chunk[at++] !== 0x0a) return fail(INTERNAL, 'the donor sent a message that is not a DataChunk');
        state = 'length';
        length = 0;
        shift = 0;
      } else if (state === 'length') {
        const b = chunk[at++] as number;
        messageLeft--;
        length += (b & 127) * 2 ** shift;
        shift += 7;
        if (b >= 128) {
          if (shift > 28 || messageLeft <= 0) return fail(INTERNAL, 'the donor sent a malformed DataChunk');
          continue;
        }
        if (length !== messageLeft) return fail(INTERNAL, 'the donor sent a malformed DataChunk');
        payloadLeft = length;
        state = payloadLeft > 0 ? 'payload' : 'prefix';
      } else {
        const n = Math.min(payloadLeft, chunk.length - at);
        const slice = chunk.subarray(at, at + n);
        at += n;
        payloadLeft -= n;
        received += n;
        if (payloadLeft === 0) state = 'prefix';
        unpack.stdin.write(slice);
        if (unpack.stdin.writableLength >= PAUSE_BYTES && !waiting) {
          waiting = true;
          req.pause();
          unpack.stdin.once('drain', resume);
        }
      }
    }
    if (received - reported >= d.progressBytes) report();
  });
  req.on('end', () => {
    if (ended) return;
    if (status === undefined) return fail(UNAVAILABLE, 'the donor stream ended without a status');
    if (status !== 0) return fail(status, statusMessage || `status ${status}`);
    if (state !== 'prefix' || prefixFill !== 0) return fail(INTERNAL, 'the donor stream ended inside a message');
    ended = true;
    clearInterval(keepalive);
    session.close();
    report();
    unpack.stdin.end();
    void exited.then((code) => port.postMessage({ type: 'done', code, tail: tail() }));
  });
}

// import() works whether the worker evaluates this as a script or as a module. A transpiler that keeps function
// names (tsx does) wraps functions in its __name helper, which the worker does not have: a no-op stands in.
const RECEIVER_SOURCE = `var __name = (f) => f;\n(${cloneReceiver.toString()})((id) => import(id));`;

/** Runs the whole recipient side; returns the GTID position the copy ends at. */
export async function cloneMariadb(o: MariadbCloneOptions): Promise<string> {
  const staged = stagedDirOf(o.dataDir);
  await fs.rm(staged, { recursive: true, force: true });
  await fs.mkdir(staged, { recursive: true, mode: 0o750 });
  const t0 = Date.now();
  try {
    o.tracker.phase('streaming');
    await receive(o, staged);
    const streamedMs = Date.now() - t0;
    o.log.info({ bytes: o.tracker.bytesTransferred, ms: streamedMs }, 'clone received; preparing');
    o.tracker.phase('preparing');
    await run(o.mariadbBackup, ['--prepare', `--target-dir=${staged}`], 'mariadb-backup --prepare', o.signal);
    o.log.info({ ms: Date.now() - t0 - streamedMs }, 'clone prepared; restarting mysqld');
    const gtid = await readBackupGtid(staged);
    await writePendingGtid(staged, gtid);
    await writeNewInstanceId(staged);
    await markStagedComplete(o.dataDir);
    o.tracker.phase('restarting');
    await restartMysqld(o.db, o.bootTimeoutMs, o.signal);
    o.tracker.phase('positioning');
    await applyPendingGtid(o.db, o.dataDir, o.log);
    o.log.info({ ms: Date.now() - t0 }, 'clone restarted on the new data');
    return gtid;
  } catch (err) {
    // An incomplete staging directory is never swapped in; remove it unless it is complete and pending.
    const complete = await fs.access(path.join(staged, 'moco-staged-complete')).then(() => true, () => false);
    if (!complete) await fs.rm(staged, { recursive: true, force: true });
    throw err;
  }
}
