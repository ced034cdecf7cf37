/**
 * A cache of one kind of object kept current by list-then-watch (client-go's informer, small): `get` and `list`
 * answer from memory, `onChange` hears every add, update and delete. A watch that ends or fails is resumed from the
 * last resourceVersion, and a 410 Gone (the version expired) means a fresh list; the delays between attempts come
 * from the shared Backoff.
 */
import type { Logger } from '../../shared/logger.ts';
import { Backoff } from '../../shared/retry.ts';
import { KubeError, type Kube } from './kube.ts';
import type { KubeObject } from './objects.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface InformerOptions {
  kube: Kube;
  /** The collection path (e.g. /api/v1/pods, /apis/moco.cybozu.com/v1beta2/mysqlclusters). */
  path: string;
  labelSelector?: string;
  log: Logger;
}

export const keyOf = (o: { metadata: { namespace?: string; name: string } }): string =>
  `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class Informer<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly listeners: Array<(type: ChangeType, obj: T, old: T | undefined) => void> = [];
  private readonly abort = new AbortController();
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly o: InformerOptions) {}

  /** Calls `fn` on every change (after the cache has it). */
  onChange(fn: (type: ChangeType, obj: T, old: T | undefined) => void): void {
    this.listeners.push(fn);
  }

  get(namespace: string, name: string): T | undefined {
    return this.items.get(`${namespace}/${name}`);
  }

  list(filter: (o: T) => boolean = () => true): T[] {
    return [...this.items.values()].filter(filter);
  }

  /** Starts listing and watching; resolves once the first list is in the cache. */
  async start(): Promise<void> {
    this.running = this.run();
    await new Promise<void>((resolve) => (this.synced ? resolve() : this.syncWaiters.push(resolve)));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }

  private emit(type: ChangeType, obj: T, old: T | undefined): void {
    for (const fn of this.listeners) {
      try {
        fn(type, obj, old);
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message, path: this.o.path }, 'informer listener failed');
      }
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const backoff = new Backoff({ initialMs: 200, maxMs: 10_000, jitter: 0.2 });
    const query = this.o.labelSelector ? { labelSelector: this.o.labelSelector } : {};
    let version = '';
    while (!signal.aborted) {
      try {
        if (!version) {
          const { items, resourceVersion } = await this.o.kube.list<T>(this.o.path, { query, signal });
          const seen = new Set<string>();
          for (const item of items) {
            const k = keyOf(item);
            seen.add(k);
            const old = this.items.get(k);
            this.items.set(k, item);
            if (!old) this.emit('ADDED', item, undefined);
            else if (old.metadata && (old.metadata as { resourceVersion?: string }).resourceVersion !==
              (item.metadata as { resourceVersion?: string }).resourceVersion) this.emit('MODIFIED', item, old);
          }
          for (const [k, old] of [...this.items]) {
            if (!seen.has(k)) {
              this.items.delete(k);
              this.emit('DELETED', old, old);
            }
          }
          version = resourceVersion;
          if (!this.synced) {
            this.synced = true;
            for (const w of this.syncWaiters.splice(0)) w();
          }
        }
        await this.o.kube.watch<T>(this.o.path, { ...query, resourceVersion: version, allowWatchBookmarks: true, timeoutSeconds: 300 }, (e) => {
          const rv = (e.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
          if (e.type === 'ERROR') {
            const status = e.object as unknown as { code?: number; message?: string };
            if (status.code === 410) version = '';
            throw new KubeError(status.code ?? 500, 'WatchError', status.message ?? 'watch error');
          }
          if (rv) version = rv;
          if (e.type === 'BOOKMARK') return;
          const k = keyOf(e.object);
          const old = this.items.get(k);
          if (e.type === 'DELETED') this.items.delete(k);
          else this.items.set(k, e.object);
          this.emit(e.type, e.object, old);
        }, { signal });
        backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof KubeError && err.status === 410) version = '';
        const delay = backoff.next();
        this.o.log.debug({ err: (err as Error).message, path: this.o.path, delayMs: delay }, 'watch ended; resuming');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
