/**
 * Streaming compression for backup archives: zstd through the `zstd` program (Node 20 has no zstd; Debian's
 * `zstd` package is multi-threaded and fast), gzip through zlib when the program is absent. The choice is
 * recorded in each archive's manifest, so a restore always knows how to read it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import zlib from 'node:zlib';
import { MocoError } from '../shared/errors.ts';
import { exited, tailLines, which } from '../shared/tools.ts';
import type { Compression } from './layout.ts';

/** A running compressor or decompressor: write into `input`, read from `output`. */
export interface Codec {
  input: Writable;
  output: Readable;
  /** Resolves when the codec has finished successfully; rejects with the tool's message otherwise. */
  done: Promise<void>;
  /** Stops it and drops its output (a failure elsewhere); `done` then settles. */
  kill(): void;
}

/** zstd when the program is installed, else gzip. */
export function defaultCompression(): Compression {
  return which('zstd') ? 'zstd' : 'gzip';
}

function zstdCodec(args: string[], what: string): Codec {
  const bin = which('zstd');
  if (!bin) throw new MocoError('FAILED_PRECONDITION', 'the archive is zstd-compressed but the zstd program is not installed; install it (apt-get install -y zstd)');
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const tail = tailLines(child);
  // A consumer that stops reading makes zstd exit with EPIPE; the stream errors are reported through `done`.
  child.stdin.on('error', () => undefined);
  const done = exited(child).then((code) => {
    if (code !== 0) throw new MocoError('INTERNAL', `zstd ${what} failed (exit ${code}): ${tail()}`);
  });
  return {
    input: child.stdin, output: child.stdout, done,
    // Its output is dropped too: unread output would keep the process's stdout open, and `done` waits for it.
    kill: () => {
      if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
      child.stdout.destroy();
    },
  };
}

function zlibCodec(t: zlib.Gzip | zlib.Gunzip): Codec {
  return { input: t, output: t, done: finished(t, { readable: false }).then(() => undefined), kill: () => t.destroy() };
}

/** A compressor; `threads` bounds zstd's worker threads. */
export function compressor(c: Compression, threads = 2): Codec {
  if (c === 'zstd') return zstdCodec(['-1', `-T${Math.max(1, threads)}`, '-q', '-c'], 'compression');
  return zlibCodec(zlib.createGzip({ level: 1 }));
}

export function decompressor(c: Compression): Codec {
  if (c === 'zstd') return zstdCodec(['-d', '-q', '-c'], 'decompression');
  return zlibCodec(zlib.createGunzip());
}

/** A pass-through that counts bytes and computes their sha256 (of what is stored). */
export class Digest extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private readonly onBytes: ((n: number) => void) | undefined;

  constructor(onBytes?: (n: number) => void) {
    super();
    this.onBytes = onBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.onBytes?.(this.bytes);
    cb(null, chunk);
  }

  /** The hex digest; call once, after the stream ended. */
  hex(): string {
    return this.hash.digest('hex');
  }
}
