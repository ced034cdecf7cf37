/** Tar archives of whole files (binlogs), streamed with tar-stream: packed from disk, unpacked to a directory. */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { invalidArgument, MocoError } from '../shared/errors.ts';
import type { Producer } from './transfer.ts';

/** Packs `files` (closed files: their size must not change while packing) under their base names. */
export function packFiles(files: string[], signal: AbortSignal): Producer {
  const pack = tar.pack();
  const done = (async () => {
    for (const file of files) {
      if (signal.aborted) throw new MocoError('CANCELLED', 'packing was cancelled');
      const st = await fs.stat(file);
      const entry = pack.entry({ name: path.basename(file), size: st.size, mode: 0o640, mtime: st.mtime });
      await pipeline(createReadStream(file), entry);
    }
    pack.finalize();
  })();
  done.catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  // tar-stream's streams are streamx streams; Node's stream API sees them through an async iterator.
  return { stream: Readable.from(pack, { objectMode: false }), done, stop: () => pack.destroy() };
}

/** An unpacker writing plain files into `dir`; returns the writable side and a promise of the file names. */
export function unpackFiles(dir: string): { sink: Writable; done: Promise<string[]> } {
  const extract = tar.extract();
  const names: string[] = [];
  const done = new Promise<string[]>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const name = header.name;
      if (header.type !== 'file' || name.includes('/') || name.startsWith('.') || name === '') {
        stream.resume();
        reject(invalidArgument(`unexpected entry "${name}" in a binlog archive`));
        return;
      }
      names.push(name);
      pipeline(stream, createWriteStream(path.join(dir, name), { mode: 0o640 })).then(() => next(), (err: unknown) => {
        reject(err);
        next(err instanceof Error ? err : new Error(String(err)));
      });
    });
    extract.on('finish', () => resolve(names));
    extract.on('error', reject);
  });
  return { sink: extract as unknown as Writable, done };
}

/**
 * Packs a whole directory tree (a MySQL clone: schema subdirectories, `#innodb_redo`, `#clone`) with paths
 * relative to `root`, directories included so that empty ones come back. Only regular files and directories:
 * anything else (a symlink, a socket) is refused rather than silently left out of a backup.
 */
export function packTree(root: string, signal: AbortSignal): Producer {
  const pack = tar.pack();
  const walk = async (rel: string): Promise<void> => {
    const entries = (await fs.readdir(path.join(root, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (signal.aborted) throw new MocoError('CANCELLED', 'packing was cancelled');
      const name = rel === '' ? e.name : `${rel}/${e.name}`;
      const full = path.join(root, name);
      if (e.isDirectory()) {
        const st = await fs.stat(full);
        pack.entry({ name, type: 'directory', mode: 0o750, mtime: st.mtime });
        await walk(name);
      } else if (e.isFile()) {
        const st = await fs.stat(full);
        const entry = pack.entry({ name, size: st.size, mode: 0o640, mtime: st.mtime });
        await pipeline(createReadStream(full), entry);
      } else {
        throw new MocoError('INTERNAL', `${full} is neither a file nor a directory; it cannot be archived`);
      }
    }
  };
  const done = (async () => {
    await walk('');
    pack.finalize();
  })();
  done.catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return { stream: Readable.from(pack, { objectMode: false }), done, stop: () => pack.destroy() };
}

/** A relative archive path that stays inside the target directory: no absolute path, no `..`, no empty part. */
export function safeTreePath(name: string): boolean {
  const trimmed = name.replace(/\/+$/, '');
  if (trimmed === '' || trimmed.startsWith('/') || trimmed.includes('\\') || trimmed.includes('\0')) return false;
  return trimmed.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Unpacks a {@link packTree} archive into `dir` (which must exist); resolves with the files written. */
export function unpackTree(dir: string): { sink: Writable; done: Promise<string[]> } {
  const extract = tar.extract();
  const names: string[] = [];
  const done = new Promise<string[]>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const name = header.name.replace(/\/+$/, '');
      const fail = (err: Error): void => {
        stream.on('error', () => undefined); // reported through `done`
        stream.resume();
        reject(err);
        next(err);
      };
      if (!safeTreePath(name) || (header.type !== 'file' && header.type !== 'directory')) {
        fail(invalidArgument(`unexpected entry "${header.name}" (${header.type ?? 'unknown type'}) in a data directory archive`));
        return;
      }
      const target = path.join(dir, name);
      const write = header.type === 'directory'
        ? fs.mkdir(target, { recursive: true, mode: 0o750 }).then(() => new Promise<void>((res, rej) => {
          stream.on('end', res);
          stream.on('error', rej);
          stream.resume();
        }))
        : fs.mkdir(path.dirname(target), { recursive: true, mode: 0o750 })
          .then(() => pipeline(stream, createWriteStream(target, { mode: 0o640 })))
          .then(() => {
            names.push(name);
          });
      write.then(() => next(), (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
    });
    extract.on('finish', () => resolve(names));
    extract.on('error', reject);
  });
  return { sink: extract as unknown as Writable, done };
}
