/**
 * The flavor-independent GTID facade. The coordinator and the agent use only this module, so that nothing
 * outside `src/gtid/` branches on the flavor. All functions are pure.
 *
 * What each flavor's text is:
 * - MySQL 8.4: a GTID set (`@@gtid_executed`, `Retrieved_Gtid_Set`), see `./mysql.ts`;
 * - MariaDB: a GTID position or state (`@@gtid_binlog_state`, `Gtid_IO_Pos`, ...), see `./mariadb.ts`.
 */
import { GtidError, invalidArgument } from './errors.ts';

export { GtidError };
import * as mariadb from './mariadb.ts';
import * as mysql from './mysql.ts';

export type { MysqlGtidSet } from './mysql.ts';
export type { MariadbGtid, MariadbGtidList } from './mariadb.ts';

/** The server flavor. */
export type Flavor = 'mysql' | 'mariadb';

/** A parsed GTID value of either flavor. Treat it as opaque outside `src/gtid/`. */
export type Gtid =
  | { readonly flavor: 'mysql'; readonly set: mysql.MysqlGtidSet }
  | { readonly flavor: 'mariadb'; readonly entries: mariadb.MariadbGtidList };

/**
 * One flat piece of a GTID value, the same shape for both flavors.
 * - MySQL: the transactions `start..end` (inclusive) of source `uuid` with tag `tag` (`''` untagged);
 *   `domain` and `serverId` are 0.
 * - MariaDB: `uuid` and `tag` are `''`; the entry `domain-serverId-end`, read as "every transaction of
 *   (domain, serverId) up to seq `end`", so `start` is always 1n. A `d-s-0` entry (nothing yet) gives
 *   `end` 0n, an empty piece.
 */
export interface GtidInterval {
  uuid: string;
  tag: string;
  domain: number;
  serverId: number;
  start: bigint;
  end: bigint;
}

function checkFlavor(flavor: unknown): Flavor {
  if (flavor === 'mysql' || flavor === 'mariadb') return flavor;
  throw invalidArgument(`unknown database flavor '${String(flavor)}'; expected 'mysql' or 'mariadb'`);
}

function sameFlavor(a: Gtid, b: Gtid, op: string): void {
  if (a.flavor !== b.flavor) {
    throw invalidArgument(`${op}: cannot mix a ${a.flavor} GTID with a ${b.flavor} GTID`, {
      details: { left: a.flavor, right: b.flavor },
    });
  }
}

/**
 * Parses a flavor's GTID text into a normalised value. `''` is the empty value.
 *
 * @throws GtidError (INVALID_ARGUMENT) on an unknown flavor or malformed text; the message names the bad part.
 */
export function parseGtid(flavor: Flavor, text: string): Gtid {
  return checkFlavor(flavor) === 'mysql'
    ? { flavor: 'mysql', set: mysql.parse(text) }
    : { flavor: 'mariadb', entries: mariadb.parse(text) };
}

/** Checks that `text` is valid GTID text for `flavor`; returns nothing. @throws GtidError (INVALID_ARGUMENT) */
export function validateGtidText(flavor: Flavor, text: string): void {
  parseGtid(flavor, text);
}

/** Formats in the server's own normal form (MySQL: `uuid:1-5:tag:7,uuid2:1-3`; MariaDB: `0-1-27,1-2-5`). */
export function formatGtid(g: Gtid): string {
  return g.flavor === 'mysql' ? mysql.format(g.set) : mariadb.format(g.entries);
}

/** The value as flat {@link GtidInterval}s in normal order. Never throws. */
export function toIntervals(g: Gtid): GtidInterval[] {
  if (g.flavor === 'mysql') {
    return mysql.toRanges(g.set).map((r) => ({ ...r, domain: 0, serverId: 0 }));
  }
  return g.entries.map((e) => ({ uuid: '', tag: '', domain: e.domain, serverId: e.serverId, start: 1n, end: e.seq }));
}

/**
 * Builds a normalised value from flat intervals (the inverse of {@link toIntervals}). MySQL: overlapping
 * intervals merge, domain and serverId must be 0. MariaDB: uuid and tag must be `''`, start must be 1n; a
 * repeated (domain, serverId) keeps the higher `end`.
 *
 * @throws GtidError (INVALID_ARGUMENT) on an interval that does not fit the flavor.
 */
export function fromIntervals(flavor: Flavor, intervals: Iterable<GtidInterval>): Gtid {
  const list = [...intervals];
  if (checkFlavor(flavor) === 'mysql') {
    const stray = list.find((i) => i.domain !== 0 || i.serverId !== 0);
    if (stray !== undefined) throw invalidArgument(`a MySQL GTID interval has domain/serverId ${stray.domain}/${stray.serverId}; want 0/0`);
    return { flavor: 'mysql', set: mysql.fromRanges(list) };
  }
  const stray = list.find((i) => i.uuid !== '' || i.tag !== '' || i.start !== 1n);
  if (stray !== undefined) {
    throw invalidArgument(`a MariaDB GTID interval has uuid '${stray.uuid}', tag '${stray.tag}', start ${stray.start}; want '', '', 1`);
  }
  return { flavor: 'mariadb', entries: mariadb.fromEntries(list.map((i) => ({ domain: i.domain, serverId: i.serverId, seq: i.end }))) };
}

/** True when the value holds no transaction. */
export function isEmptyGtid(g: Gtid): boolean {
  return g.flavor === 'mysql' ? mysql.isEmpty(g.set) : mariadb.isEmpty(g.entries);
}

/**
 * True when `a` has everything `b` has. MySQL: `b ⊆ a`. MariaDB: `a`'s seq is at least `b`'s in every domain
 * of `b` (see `positionCovers`). Use it to rank failover candidates by received GTIDs and to decide whether a
 * switchover candidate has caught up.
 *
 * @throws GtidError (INVALID_ARGUMENT) when the flavors differ.
 */
export function gtidContains(a: Gtid, b: Gtid): boolean {
  sameFlavor(a, b, 'gtidContains');
  if (a.flavor === 'mysql' && b.flavor === 'mysql') return mysql.isSubset(b.set, a.set);
  if (a.flavor === 'mariadb' && b.flavor === 'mariadb') return mariadb.positionCovers(a.entries, b.entries);
  throw invalidArgument('gtidContains: unreachable flavor mix');
}

/**
 * Everything in `a` or `b`. MySQL: set union. MariaDB: per (domain, server id) the higher seq.
 *
 * @throws GtidError (INVALID_ARGUMENT) when the flavors differ.
 */
export function gtidUnion(a: Gtid, b: Gtid): Gtid {
  sameFlavor(a, b, 'gtidUnion');
  if (a.flavor === 'mysql' && b.flavor === 'mysql') return { flavor: 'mysql', set: mysql.union(a.set, b.set) };
  if (a.flavor === 'mariadb' && b.flavor === 'mariadb') {
    return { flavor: 'mariadb', entries: mariadb.merge(a.entries, b.entries) };
  }
  throw invalidArgument('gtidUnion: unreachable flavor mix');
}

/**
 * The sources of a replica's errant transactions, sorted; `[]` means the replica is not errant.
 * - MySQL: `replicaText` and `primaryText` are `@@gtid_executed`; `primarySourceId` is the primary's
 *   `@@server_uuid`. Returns the uuids of `replica \ primary` other than the primary's own (a replica read
 *   after the primary may be ahead with the primary's own transactions; that is not errant).
 * - MariaDB: both texts are `@@gtid_binlog_state`; `primarySourceId` is the primary's `@@server_id` as a
 *   decimal string. Returns the distinct `domain-server_id` of `errantEntries`.
 *
 * @throws GtidError (INVALID_ARGUMENT) on malformed text or a malformed `primarySourceId`.
 */
export function errantSources(flavor: Flavor, replicaText: string, primaryText: string, primarySourceId: string): string[] {
  if (checkFlavor(flavor) === 'mysql') {
    const own = primarySourceId.trim().toLowerCase();
    if (!mysql.isUuid(own)) {
      throw invalidArgument(`bad MySQL primary server uuid '${primarySourceId}'; expected the primary's @@server_uuid`);
    }
    const extra = mysql.subtract(mysql.parse(replicaText), mysql.parse(primaryText));
    return mysql.sourceIds(extra).filter((uuid) => uuid !== own);
  }
  const id = primarySourceId.trim();
  if (!/^\d+$/.test(id) || Number(id) > mariadb.MAX_ID) {
    throw invalidArgument(`bad MariaDB primary server id '${primarySourceId}'; expected a decimal @@server_id`);
  }
  const errant = mariadb.errantEntries(mariadb.parse(replicaText), mariadb.parse(primaryText), Number(id));
  return [...new Set(errant.map((e) => `${e.domain}-${e.serverId}`))];
}

function asMariadb(g: Gtid, op: string): mariadb.MariadbGtidList {
  if (g.flavor !== 'mariadb') throw invalidArgument(`${op}: wants a mariadb GTID, got a ${g.flavor} one`);
  return g.entries;
}

/**
 * MariaDB only: both lists merged, per (domain, server id) the higher seq. The agent uses it to build an
 * "executed" state from `@@gtid_binlog_state` and `@@gtid_slave_pos` (a replica without `log_slave_updates`
 * or a fresh clone has applied transactions that its binlog state does not list).
 *
 * @throws GtidError (INVALID_ARGUMENT) when either value is not a MariaDB one.
 */
export function mariadbMerge(a: Gtid, b: Gtid): Gtid {
  return { flavor: 'mariadb', entries: mariadb.merge(asMariadb(a, 'mariadbMerge'), asMariadb(b, 'mariadbMerge')) };
}

/**
 * MariaDB only: the position text of a state, one `domain-server_id-seq` per domain with that domain's
 * highest seq (`@@gtid_binlog_pos` from `@@gtid_binlog_state`). This is what `MASTER_GTID_WAIT()` and
 * `gtid_slave_pos` accept: they reject a list naming one domain twice.
 *
 * @throws GtidError (INVALID_ARGUMENT) when the value is not a MariaDB one.
 */
export function mariadbDomainMaxText(g: Gtid): string {
  return mariadb.format(mariadb.toPosition(asMariadb(g, 'mariadbDomainMaxText')));
}
