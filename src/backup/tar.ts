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
