/**
 * The object layout of backups, shared by the agent (which writes them) and the runners (which list and pick
 * them). Pure: keys, key times and the manifest formats.
 *
 *   moco/<namespace>/<name>/<YYYYMMDD-hhmmss>/base.xbstream.zst   the full physical backup taken at that time
 *   moco/<namespace>/<name>/<YYYYMMDD-hhmmss>/manifest.json       written last: the backup is complete
 *   moco/<namespace>/<name>/<YYYYMMDD-hhmmss>/binlog.tar.zst      binlogs from this backup to the next one,
 *   moco/<namespace>/<name>/<YYYYMMDD-hhmmss>/binlog.json         uploaded by the next backup (json last)
 *
 * The directory time is the backup's start in UTC (the seed system's layout); the binlog archive sits in the
 * directory of the backup it continues, so one directory restores to any point between its backup and the next.
 */
import { invalidArgument } from '../shared/errors.ts';
import { isoSeconds, parseRfc3339 } from '../api/time.ts';

export { isoSeconds, parseRfc3339 };

export const MANIFEST = 'manifest.json';
export const BINLOG_MANIFEST = 'binlog.json';
export const FORMAT_VERSION = 1;

export type Compression = 'zstd' | 'gzip';

export const compressionSuffix = (c: Compression): string => (c === 'zstd' ? 'zst' : 'gz');

/** `moco/<namespace>/<name>/` (the trailing slash keeps `foo` from listing `foo-bar`). */
export const clusterPrefix = (namespace: string, name: string): string => `moco/${namespace}/${name}/`;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** A date as a key directory: `YYYYMMDD-hhmmss` in UTC. */
export function formatKeyTime(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** Parses a key directory; undefined when it is not one. */
export function parseKeyTime(s: string): Date | undefined {
  const m = /^(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  return formatKeyTime(date) === s ? date : undefined;
}

/** One stored archive. */
export interface StoredObject {
  key: string;
  /** Bytes as stored (compressed). */
  size: number;
  /** sha256 of the stored bytes, hex. */
  sha256: string;
  compression: Compression;
}

/** `manifest.json`: a complete full backup. */
export interface BackupManifest {
  formatVersion: number;
  /** How the data was copied, e.g. "mariadb-backup/xbstream". */
  format: string;
  flavor: 'mysql' | 'mariadb';
  version: string;
  cluster: { namespace: string; name: string };
  sourceIndex: number;
  instanceId: string;
  /** The directory name. */
  time: string;
  startedAt: string;
  /** When the copy ended: it holds every transaction committed before startedAt and none after finishedAt. */
  finishedAt: string;
  /** The GTID position/set the copy ends at. */
  gtid: string;
  /** The binlog file current when the backup started. */
  binlogFile: string;
  base: StoredObject;
  /** The host the backup was taken on (for people reading the manifest). */
  host?: string;
}

/** `binlog.json`: the binlog archive of a directory, from its backup's GTID to `toGtid`. */
export interface BinlogManifest {
  formatVersion: number;
  archive: StoredObject;
  files: string[];
  /** Transactions after this position (the directory's backup) are in the archive... */
  fromGtid: string;
  /** ...up to this one (the instance's executed set when the files were closed). */
  toGtid: string;
  /** Every transaction committed before this time (and after the directory's backup) is in the archive. */
  coversUntil: string;
  sourceIndex: number;
  instanceId: string;
}

export interface ListedBackup {
  time: string;
  date: Date;
  hasManifest: boolean;
  hasBinlog: boolean;
}

/** Groups a listing under a cluster prefix into backup directories, oldest first. Foreign keys are ignored. */
export function groupBackups(prefix: string, keys: string[]): ListedBackup[] {
  const byTime = new Map<string, ListedBackup>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const [dir, file, ...rest] = key.slice(prefix.length).split('/');
    if (dir === undefined || file === undefined || rest.length > 0) continue;
    const date = parseKeyTime(dir);
    if (!date) continue;
    const b = byTime.get(dir) ?? { time: dir, date, hasManifest: false, hasBinlog: false };
    if (file === MANIFEST) b.hasManifest = true;
    if (file === BINLOG_MANIFEST) b.hasBinlog = true;
    byTime.set(dir, b);
  }
  return [...byTime.values()].sort((a, b) => a.time.localeCompare(b.time));
}


/** The restore point as the seed passes it on: UTC, truncated to whole seconds. */
export function requireRestorePoint(text: string): Date {
  const d = parseRfc3339(text);
  if (!d) throw invalidArgument(`restore point "${text}" is not an RFC 3339 time; use for example 2026-05-26T12:34:56Z`);
  return d;
}

/** `YYYY-MM-DD hh:mm:ss` in UTC, the form the binlog tools' --stop-datetime takes (with TZ=UTC). */
export function binlogDateTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}
