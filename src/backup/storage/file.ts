/**
 * The `backendType: file` {@link BucketClient}: the "bucket" is an absolute directory (a mounted volume, an NFS
 * share) and a key `a/b/c` is the file `<dir>/a/b/c`. Writes are atomic: the data goes to a temporary name in
 * the same directory, is fsynced and renamed into place, and the directory is fsynced, so a crash or a failed
 * upload never leaves a partial object under a key.
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { invalidArgument, MocoError, messageOf } from '../../shared/errors.ts';
import type { BucketClient, ObjectInfo, UploadOptions } from './types.ts';
import { checkKey, checkPrefix, isTempName, mapFsError, tempName } from './file-paths.ts';

/** Options for {@link FileBucket}. */
export interface FileBucketOptions {
  /** Create the directory (and its parents) when it is missing, in `check()` and before writes. For backups. */
  create?: boolean;
}

/**
 * Creates `dir` and its parents (mode 0750) when missing; idempotent. INVALID_ARGUMENT for a relative path,
 * PERMISSION_DENIED when the process may not create it.
 */
export async function ensureDirectory(dir: string, signal?: AbortSignal): Promise<void> {
  if (!path.isAbsolute(dir)) throw invalidArgument(`backup directory ${dir} must be an absolute path`);
  signal?.throwIfAborted();
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw mapFsError(err, `creating backup directory ${dir}`, dir);
  }
}

/** A directory used as a bucket. Construction does no I/O. */
export class FileBucket implements BucketClient {
  readonly dir: string;
  private readonly create: boolean;

  /** Throws INVALID_ARGUMENT unless `dir` is absolute. */
  constructor(dir: string, options: FileBucketOptions = {}) {
    if (!path.isAbsolute(dir)) {
      throw invalidArgument(`bucketConfig.bucketName must be an absolute directory for backendType file, got "${dir}"`);
    }
    this.dir = path.resolve(dir);
    this.create = options.create ?? false;
  }

  describe(): string {
    return `directory ${this.dir}`;
  }

  async check(signal?: AbortSignal): Promise<void> {
    if (this.create) await ensureDirectory(this.dir, signal);
    signal?.throwIfAborted();
    let st: Stats;
    try {
      st = await fs.stat(this.dir);
    } catch (err) {
      throw this.mapError(err, `checking ${this.describe()}`);
    }
    if (!st.isDirectory()) {
      throw new MocoError('FAILED_PRECONDITION', `backup directory ${this.dir} is not a directory; fix bucketConfig.bucketName`);
    }
    try {
      await fs.access(this.dir, fs.constants.R_OK | fs.constants.X_OK);
    } catch (err) {
      throw this.mapError(err, `checking ${this.describe()}`);
    }
  }

  async upload(key: string, body: Readable, options: UploadOptions = {}): Promise<number> {
    const { signal, onProgress } = options;
    let bodyError: unknown;
    const onBodyError = (err: unknown): void => {
      bodyError ??= err;
    };
    const onAbort = (): void => {
      body.destroy(Object.assign(new Error('upload cancelled'), { name: 'AbortError' }));
    };
    body.on('error', onBodyError);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const target = this.pathOf(key);
      return await this.writeAtomically(key, target, signal, (err) => err === bodyError, async (fh) => {
        let bytes = 0;
        for await (const chunk of body) {
          const buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          await writeAll(fh, buf);
          bytes += buf.length;
          onProgress?.(bytes);
        }
        return bytes;
      });
    } catch (err) {
      body.destroy();
      if (signal?.aborted) {
        throw new MocoError('CANCELLED', `upload of ${key} to ${this.describe()} was cancelled`, { details: { key } });
      }
      if (err instanceof MocoError) throw err;
      if (bodyError !== undefined && err === bodyError) {
        throw new MocoError('INTERNAL', `reading the data for ${key} failed: ${messageOf(err)}`, { cause: err, details: { key } });
      }
      throw this.mapError(err, `writing ${key} to ${this.describe()}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      body.off('error', onBodyError);
    }
  }

  async putObject(key: string, data: Buffer | string, options: { contentType?: string; signal?: AbortSignal } = {}): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    await this.writeAtomically(key, this.pathOf(key), options.signal, () => false, async (fh) => {
      await writeAll(fh, buf);
      return buf.length;
    });
  }

  async getObject(key: string, signal?: AbortSignal): Promise<Readable> {
    const file = this.pathOf(key);
    signal?.throwIfAborted();
    let fh: fs.FileHandle | undefined;
    try {
      fh = await fs.open(file, 'r');
      // Opening a directory succeeds on Linux; it is a key prefix, not an object.
      if (!(await fh.stat()).isFile()) throw Object.assign(new Error(`${key} is a directory`), { code: 'EISDIR' });
    } catch (err) {
      await fh?.close();
      if (isMissing(err)) await this.requireDir();
      if (isMissing(err)) throw new MocoError('NOT_FOUND', `object ${key} does not exist in ${this.describe()}`, { cause: err });
      throw this.mapError(err, `reading ${key} from ${this.describe()}`);
    }
    const stream = fh.createReadStream({ highWaterMark: 1024 * 1024 });
    if (signal) {
      const onAbort = (): void => {
        stream.destroy(Object.assign(new Error(`reading ${key} was cancelled`), { name: 'AbortError' }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    return stream;
  }

  async readText(key: string, signal?: AbortSignal): Promise<string | undefined> {
    const file = this.pathOf(key);
    try {
      return await fs.readFile(file, { encoding: 'utf8', signal });
    } catch (err) {
      if (isMissing(err)) {
        await this.requireDir();
        return undefined;
      }
      throw this.mapError(err, `reading ${key} from ${this.describe()}`);
    }
  }

  async list(prefix: string, signal?: AbortSignal): Promise<ObjectInfo[]> {
    const start = checkPrefix(prefix);
    await this.requireDir();
    const out: ObjectInfo[] = [];
    try {
      await this.walk(start, prefix, out, signal);
    } catch (err) {
      throw this.mapError(err, `listing ${prefix || '(all)'} in ${this.describe()}`);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: string[], signal?: AbortSignal): Promise<void> {
    const files = keys.map((k) => this.pathOf(k));
    for (const [i, file] of files.entries()) {
      signal?.throwIfAborted();
      try {
        await fs.unlink(file);
      } catch (err) {
        if (!isMissing(err)) throw this.mapError(err, `deleting ${keys[i]} from ${this.describe()}`);
      }
      await this.pruneEmptyDirs(path.dirname(file));
    }
  }

  close(): void {
    // Nothing is held open between calls.
  }

  /** The file of `key`; INVALID_ARGUMENT for keys that could leave the directory. */
  private pathOf(key: string): string {
    return path.join(this.dir, ...checkKey(key));
  }

  /** NOT_FOUND (with what to do) when the directory itself is missing. */
  private async requireDir(): Promise<void> {
    try {
      await fs.stat(this.dir);
    } catch (err) {
      throw this.mapError(err, `using ${this.describe()}`);
    }
  }

  /** Errors for which `passThrough` is true (the body's own) are rethrown as they are, for the caller to word. */
  private async writeAtomically(
    key: string, target: string, signal: AbortSignal | undefined, passThrough: (err: unknown) => boolean,
    write: (fh: fs.FileHandle) => Promise<number>,
  ): Promise<number> {
    signal?.throwIfAborted();
    if (this.create) await ensureDirectory(this.dir, signal);
    else await this.requireDir();
    const dir = path.dirname(target);
    const temp = path.join(dir, tempName(path.basename(target)));
    let fh: fs.FileHandle | undefined;
    try {
      const created = await fs.mkdir(dir, { recursive: true, mode: 0o750 });
      fh = await fs.open(temp, 'wx', 0o640);
      const bytes = await write(fh);
      signal?.throwIfAborted();
      await fh.sync();
      await fh.close();
      fh = undefined;
      await fs.rename(temp, target);
      // The new name (and any directories made for it) must survive a crash too.
      for (const d of created ? dirsFrom(path.dirname(created), dir) : [dir]) await fsyncDir(d);
      return bytes;
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await fs.rm(temp, { force: true }).catch(() => undefined);
      if (signal?.aborted) throw new MocoError('CANCELLED', `writing ${key} to ${this.describe()} was cancelled`);
      if (passThrough(err)) throw err;
      throw this.mapError(err, `writing ${key} to ${this.describe()}`);
    }
  }

  private async walk(rel: string, prefix: string, out: ObjectInfo[], signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    let entries;
    try {
      entries = await fs.readdir(path.join(this.dir, rel), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const e of entries) {
      const key = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await this.walk(key, prefix, out, signal);
      } else if (!isTempName(e.name) && key.startsWith(prefix)) {
        const st = await fs.stat(path.join(this.dir, key)).catch(() => undefined);
        if (st?.isFile()) out.push({ key, size: st.size });
      }
    }
  }

  /** Removes directories left empty by a delete, up to (not including) the bucket directory. */
  private async pruneEmptyDirs(from: string): Promise<void> {
    for (let d = from; d !== this.dir && d.startsWith(`${this.dir}${path.sep}`); d = path.dirname(d)) {
      try {
        await fs.rmdir(d);
      } catch {
        return; // not empty (or already gone): stop
      }
    }
  }

  private mapError(err: unknown, what: string): MocoError {
    return mapFsError(err, what, this.dir);
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

async function writeAll(fh: fs.FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length;) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/** `top` and every directory below it down to `bottom`, top first. */
function dirsFrom(top: string, bottom: string): string[] {
  const dirs = [bottom];
  for (let d = bottom; d !== top && d.startsWith(top); d = path.dirname(d)) dirs.unshift(path.dirname(d));
  return dirs;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some file systems cannot fsync a directory; the rename is then as durable as they allow.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR') throw err;
  } finally {
    await fh.close();
  }
}
