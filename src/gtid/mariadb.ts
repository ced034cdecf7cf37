/**
 * MariaDB GTID positions and states as pure values: parse, format, compare, errant detection. No I/O.
 *
 * A MariaDB GTID is `domain-server_id-seq`. MariaDB has no GTID *sets*; it has lists of GTIDs:
 * - a *state* (`@@gtid_binlog_state`) holds the last seq of every (domain, server_id) in the binlog, so a
 *   domain may appear with several server ids;
 * - a *position* (`@@gtid_slave_pos`, `Gtid_IO_Pos`, `@@gtid_binlog_pos`, `@@gtid_current_pos`) holds one GTID
 *   per domain, the last one applied or received.
 * Both are represented as the same normalised list (sorted by domain then server id, one entry per
 * (domain, server id)); {@link toPosition} turns a state into its position.
 *
 * Ordering rests on `gtid_strict_mode=1` (required by this project): within a domain seq rises monotonically
 * whatever the server id, so "has applied more" is "has a higher seq in every domain". With one domain (the
 * recommended setup) that is a total order; with several it is a partial order.
 */
import { invalidArgument, type GtidError } from './errors.ts';

/** Largest domain id and server id (both unsigned 32-bit in MariaDB). */
export const MAX_ID = 4294967295;
/** Largest seq (unsigned 64-bit in MariaDB). */
export const MAX_SEQ = 18446744073709551615n;

/** One MariaDB GTID: the last transaction `seq` of `serverId` in `domain` (seq 0 means none). */
export interface MariadbGtid {
  readonly domain: number;
  readonly serverId: number;
  readonly seq: bigint;
}

/** A normalised position or state: sorted by domain then server id, (domain, server id) unique. */
export type MariadbGtidList = readonly MariadbGtid[];

const ENTRY_RE = /^(\d+)-(\d+)-(\d+)$/;

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function malformed(problem: string, part: string, text: string): GtidError {
  return invalidArgument(`malformed MariaDB GTID list: ${problem} '${clip(part)}'; expected domain-server_id-seq,...`, {
    details: { part: clip(part), text: clip(text) },
  });
}

/**
 * Parses a comma-separated list of `domain-server_id-seq`. Whitespace and newlines around commas and empty
 * elements are tolerated; `''` is the empty list. A (domain, server id) given twice keeps the higher seq.
 * The result is normalised.
 *
 * @throws GtidError INVALID_ARGUMENT naming the offending part: not three dash-separated numbers, a domain or
 *   server id above 2^32-1, a seq above 2^64-1.
 */
export function parse(text: string): MariadbGtidList {
  const entries: MariadbGtid[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = ENTRY_RE.exec(part);
    if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) {
      throw malformed('bad GTID', part, text);
    }
    const domain = Number(m[1]);
    const serverId = Number(m[2]);
    const seq = BigInt(m[3]);
    if (domain > MAX_ID) throw malformed('domain id above 2^32-1 in', part, text);
    if (serverId > MAX_ID) throw malformed('server id above 2^32-1 in', part, text);
    if (seq > MAX_SEQ) throw malformed('seq above 2^64-1 in', part, text);
    entries.push({ domain, serverId, seq });
  }
  return normalise(entries);
}

/**
 * Builds a normalised list from entries in any order; a repeated (domain, server id) keeps the higher seq.
 *
 * @throws GtidError INVALID_ARGUMENT when an id is not an integer in 0..2^32-1 or seq is outside 0..2^64-1.
 */
export function fromEntries(entries: Iterable<MariadbGtid>): MariadbGtidList {
  const checked: MariadbGtid[] = [];
  for (const e of entries) {
    const shown = `${e.domain}-${e.serverId}-${e.seq}`;
    const idOk = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= MAX_ID;
    if (!idOk(e.domain) || !idOk(e.serverId) || e.seq < 0n || e.seq > MAX_SEQ) throw malformed('bad GTID', shown, shown);
    checked.push({ domain: e.domain, serverId: e.serverId, seq: e.seq });
  }
  return normalise(checked);
}

/** Formats as MariaDB does: `domain-server_id-seq` joined by `,`, sorted by domain then server id. */
export function format(list: MariadbGtidList): string {
  return list.map((e) => `${e.domain}-${e.serverId}-${e.seq}`).join(',');
}

/** True when the list has no entry. */
export function isEmpty(list: MariadbGtidList): boolean {
  return list.length === 0;
}

/** Both lists merged: for each (domain, server id) the higher seq. */
export function merge(a: MariadbGtidList, b: MariadbGtidList): MariadbGtidList {
  return normalise([...a, ...b]);
}

/** For each domain, the highest seq of any server id (the position's seq under gtid_strict_mode). */
export function domainMax(list: MariadbGtidList): ReadonlyMap<number, bigint> {
  const max = new Map<number, bigint>();
  for (const e of list) {
    const seen = max.get(e.domain);
    if (seen === undefined || e.seq > seen) max.set(e.domain, e.seq);
  }
  return max;
}

/**
 * The position of a state: for each domain the entry with the highest seq (what `@@gtid_binlog_pos` is to
 * `@@gtid_binlog_state`). A position is returned unchanged.
 */
export function toPosition(list: MariadbGtidList): MariadbGtidList {
  const best = new Map<number, MariadbGtid>();
  for (const e of list) {
    const seen = best.get(e.domain);
    if (seen === undefined || e.seq > seen.seq) best.set(e.domain, e);
  }
  return [...best.values()];
}

/**
 * True when `a` has applied (or received) everything `b` has: for each domain of `b`, `a`'s highest seq in
 * that domain is at least `b`'s. Under gtid_strict_mode seq rises monotonically within a domain whatever the
 * server id, so the server ids do not matter. A domain missing from `a` counts as seq 0.
 *
 * Use it for failover ranking on `Gtid_IO_Pos` (what a replica *received*), not on `gtid_slave_pos`: a
 * replica whose applier is blocked has a low slave pos but may hold the acknowledged transactions in its
 * relay log. Several domains give a partial order: neither of two lists may cover the other.
 */
export function positionCovers(a: MariadbGtidList, b: MariadbGtidList): boolean {
  const mine = domainMax(a);
  for (const [domain, seq] of domainMax(b)) {
    if ((mine.get(domain) ?? 0n) < seq) return false;
  }
  return true;
}

/**
 * The entries of `replicaState` that the primary does not have: errant transactions. Both arguments should be
 * `@@gtid_binlog_state` values; `primaryServerId` is the primary's `@@server_id`. An entry (d, s, seq) is
 * errant when `s` is not the primary's server id and either
 * - the primary has (d, s) with a lower seq: the replica ran transactions under that server id after the
 *   primary's copy of that history ends (the returning old primary's un-acknowledged commit), or
 * - the primary has no (d, s) and `seq` is above the primary's highest seq in domain d.
 *
 * Why not simply "any entry the primary lacks": a binlog state only holds what that server's binlog holds. A
 * node made by clone (mariadb-backup) or after `RESET MASTER` starts its history at that point, so its state
 * lacks old (d, s) entries; the replica's old entries for servers the primary never logged are then covered
 * by the primary's higher seq in the domain (strict mode). And entries under the primary's own server id are
 * never errant: under load a replica can be read after the primary and so look ahead with the primary's own
 * transactions. Returns the errant entries, normalised; empty when the replica is not errant.
 *
 * Limitation: a divergent transaction with a seq at or below the primary's domain max under a server id the
 * primary never logged cannot be told apart from old history and is not reported.
 */
export function errantEntries(
  replicaState: MariadbGtidList,
  primaryState: MariadbGtidList,
  primaryServerId: number,
): MariadbGtidList {
  const primary = new Map(primaryState.map((e) => [`${e.domain}-${e.serverId}`, e.seq] as const));
  const primaryMax = domainMax(primaryState);
  return replicaState.filter((e) => {
    if (e.serverId === primaryServerId) return false;
    const same = primary.get(`${e.domain}-${e.serverId}`);
    if (same !== undefined) return e.seq > same;
    return e.seq > (primaryMax.get(e.domain) ?? 0n);
  });
}

/** Sorts by (domain, server id) and keeps the highest seq of a repeated pair. */
function normalise(entries: readonly MariadbGtid[]): MariadbGtidList {
  const best = new Map<string, MariadbGtid>();
  for (const e of entries) {
    const key = `${e.domain}-${e.serverId}`;
    const seen = best.get(key);
    if (seen === undefined || e.seq > seen.seq) best.set(key, e);
  }
  return [...best.values()].sort((x, y) => x.domain - y.domain || x.serverId - y.serverId);
}
