/**
 * MySQL 8.4 GTID sets, tags included, as pure values: parse, format and set algebra. No I/O, no clock.
 *
 * Text form (what `@@gtid_executed`, `Retrieved_Gtid_Set` and `GTID_SUBTRACT()` use):
 * `uuid:1-5:7,uuid2:tag_a:1-3`. One element per uuid, elements separated by commas (MySQL prints `,\n`).
 * Inside an element, `:`-separated parts are intervals (`n` or `n-m`) or tags; a tag applies to the intervals
 * after it, so `uuid:1-5:tag_a:1-3:7` mixes untagged and tagged transactions of one source.
 *
 * Values are normalised: uuids and tags lowercase, groups sorted by uuid then tag (untagged first), intervals
 * sorted and merged when they overlap or touch. Every function here returns a normalised set; build sets only
 * with {@link parse}, {@link fromRanges} or the operations, never by hand.
 */
import { invalidArgument, type GtidError } from './errors.ts';

/**
 * Largest accepted sequence number, 2^63-1. MySQL stores GNOs as signed 64-bit integers (the server itself
 * never assigns 2^63-1, which it keeps as an end marker, but accepting it costs nothing).
 */
export const MAX_GNO = 9223372036854775807n;

/** An inclusive range of sequence numbers, `1 <= start <= end <= MAX_GNO`. */
export interface Interval {
  readonly start: bigint;
  readonly end: bigint;
}

/** The transactions of one source id (uuid) and one tag (`''` for untagged). `intervals` is non-empty. */
export interface TsidIntervals {
  readonly uuid: string;
  readonly tag: string;
  readonly intervals: readonly Interval[];
}

/** A normalised GTID set. Empty set: `tsids` is empty. */
export interface MysqlGtidSet {
  readonly tsids: readonly TsidIntervals[];
}

/** One flat range of a set: everything from `start` to `end` (inclusive) of one uuid and tag. */
export interface MysqlGtidRange {
  readonly uuid: string;
  readonly tag: string;
  readonly start: bigint;
  readonly end: bigint;
}

/** The empty GTID set (MySQL prints it as `''`). */
export const EMPTY: MysqlGtidSet = Object.freeze({ tsids: Object.freeze([]) });

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TAG_RE = /^[a-z_][a-z0-9_]{0,31}$/i;
const INTERVAL_RE = /^(\d+)(?:\s*-\s*(\d+))?$/;

/** True when `text` is a uuid in the 8-4-4-4-12 hex form MySQL prints (any case). */
export function isUuid(text: string): boolean {
  return UUID_RE.test(text);
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function malformed(problem: string, part: string, text: string): GtidError {
  return invalidArgument(`malformed MySQL GTID set: ${problem} '${clip(part)}'; expected uuid:1-5:tag:7,uuid2:1-3`, {
    details: { part: clip(part), text: clip(text) },
  });
}

function parseGno(digits: string, part: string, text: string): bigint {
  const n = BigInt(digits);
  if (n > MAX_GNO) throw malformed('sequence number above 2^63-1 in', part, text);
  return n;
}

function parseInterval(part: string, text: string): Interval {
  const m = INTERVAL_RE.exec(part);
  if (m === null || m[1] === undefined) throw malformed('bad interval', part, text);
  const start = parseGno(m[1], part, text);
  const end = m[2] === undefined ? start : parseGno(m[2], part, text);
  if (start === 0n) throw malformed('interval starts at 0 (sequence numbers start at 1):', part, text);
  if (end < start) throw malformed('interval ends before it starts:', part, text);
  return { start, end };
}

/**
 * Parses MySQL's text form. Accepts any case (normalised to lowercase), whitespace and newlines around
 * commas, colons and dashes, a uuid repeated in several elements, and empty elements (`''`, a trailing
 * comma), as MySQL does. The result is normalised.
 *
 * @throws GtidError INVALID_ARGUMENT naming the offending part: a bad uuid, a uuid or tag without intervals,
 *   a bad tag, a bad interval, an interval starting at 0 or ending before it starts, a number above 2^63-1.
 */
export function parse(text: string): MysqlGtidSet {
  const ranges: MysqlGtidRange[] = [];
  for (const rawElement of text.split(',')) {
    const element = rawElement.trim();
    if (element === '') continue;
    const [rawUuid = '', ...rest] = element.split(':').map((p) => p.trim());
    if (!UUID_RE.test(rawUuid)) throw malformed('bad uuid', rawUuid, text);
    const uuid = rawUuid.toLowerCase();
    if (rest.length === 0) throw malformed('no intervals after uuid', element, text);
    let tag = '';
    let sinceTag = 0;
    for (const part of rest) {
      if (!/^[a-z_]/i.test(part)) {
        const { start, end } = parseInterval(part, text);
        ranges.push({ uuid, tag, start, end });
        sinceTag++;
        continue;
      }
      if (sinceTag === 0 && tag !== '') throw malformed('no intervals after tag', tag, text);
      if (!TAG_RE.test(part)) throw malformed('bad tag (want [a-z_][a-z0-9_]{0,31})', part, text);
      tag = part.toLowerCase();
      sinceTag = 0;
    }
    if (sinceTag === 0) throw malformed(tag === '' ? 'no intervals after uuid' : 'no intervals after tag', element, text);
  }
  return normalise(ranges);
}

/**
 * Builds a normalised set from flat ranges in any order, overlapping or not. Inverse of {@link toRanges}.
 *
 * @throws GtidError INVALID_ARGUMENT on a bad uuid or tag, or a range outside `1 <= start <= end <= 2^63-1`.
 */
export function fromRanges(ranges: Iterable<MysqlGtidRange>): MysqlGtidSet {
  const checked: MysqlGtidRange[] = [];
  for (const r of ranges) {
    const shown = `${r.uuid}:${r.tag === '' ? '' : `${r.tag}:`}${r.start}-${r.end}`;
    if (!UUID_RE.test(r.uuid)) throw malformed('bad uuid', r.uuid, shown);
    if (r.tag !== '' && !TAG_RE.test(r.tag)) throw malformed('bad tag', r.tag, shown);
    if (r.start < 1n || r.end < r.start || r.end > MAX_GNO) throw malformed('bad interval', `${r.start}-${r.end}`, shown);
    checked.push({ uuid: r.uuid.toLowerCase(), tag: r.tag.toLowerCase(), start: r.start, end: r.end });
  }
  return normalise(checked);
}

/** The set as flat ranges, in normal order (uuid, tag, start). Never throws. */
export function toRanges(set: MysqlGtidSet): MysqlGtidRange[] {
  return set.tsids.flatMap((t) => t.intervals.map((iv) => ({ uuid: t.uuid, tag: t.tag, start: iv.start, end: iv.end })));
}

/**
 * Formats a set as MySQL does: each uuid once, its untagged intervals first, then `:tag:intervals` for each
 * tag; a one-number interval prints as `n`. MySQL separates uuids with `,\n`; this uses `separator`
 * (default `,`), which {@link parse} reads back either way. The empty set formats as `''`.
 */
export function format(set: MysqlGtidSet, separator = ','): string {
  const out: string[] = [];
  let current = '';
  for (const t of set.tsids) {
    if (t.uuid !== current) {
      out.push(t.uuid);
      current = t.uuid;
    }
    const ivs = t.intervals.map((iv) => (iv.start === iv.end ? `:${iv.start}` : `:${iv.start}-${iv.end}`)).join('');
    out[out.length - 1] += (t.tag === '' ? '' : `:${t.tag}`) + ivs;
  }
  return out.join(separator);
}

/** True when the set holds no transaction. */
export function isEmpty(set: MysqlGtidSet): boolean {
  return set.tsids.length === 0;
}

/** True when both sets hold the same transactions. */
export function equals(a: MysqlGtidSet, b: MysqlGtidSet): boolean {
  return format(a) === format(b);
}

/** The distinct source uuids (lowercase, sorted) that have at least one transaction in the set. */
export function sourceIds(set: MysqlGtidSet): string[] {
  return [...new Set(set.tsids.map((t) => t.uuid))];
}

/** Every transaction in `a` or in `b`. */
export function union(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
  return normalise([...toRanges(a), ...toRanges(b)]);
}

/** The transactions of `a` that are not in `b` (MySQL's `GTID_SUBTRACT(a, b)`). Tags count: `u:t:1` is not `u:1`. */
export function subtract(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
  return combine(a, b, (x, y) => (y === undefined ? x : subtractIntervals(x, y)));
}

/** The transactions in both `a` and `b`. */
export function intersect(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
  return combine(a, b, (x, y) => (y === undefined ? [] : intersectIntervals(x, y)));
}

/** True when every transaction of `a` is in `b` (`a ⊆ b`, MySQL's `GTID_SUBSET(a, b)`). */
export function isSubset(a: MysqlGtidSet, b: MysqlGtidSet): boolean {
  return isEmpty(subtract(a, b));
}

// ---- internals -------------------------------------------------------------------------------------------

const keyOf = (uuid: string, tag: string): string => `${uuid}\u0000${tag}`;

/** Groups already-valid lowercase ranges by (uuid, tag), sorts and merges. */
function normalise(ranges: readonly MysqlGtidRange[]): MysqlGtidSet {
  if (ranges.length === 0) return EMPTY;
  const groups = new Map<string, { uuid: string; tag: string; intervals: Interval[] }>();
  for (const r of ranges) {
    const key = keyOf(r.uuid, r.tag);
    let g = groups.get(key);
    if (g === undefined) {
      g = { uuid: r.uuid, tag: r.tag, intervals: [] };
      groups.set(key, g);
    }
    g.intervals.push({ start: r.start, end: r.end });
  }
  const tsids = [...groups.values()]
    .sort((x, y) => compareStrings(x.uuid, y.uuid) || compareStrings(x.tag, y.tag))
    .map((g) => ({ uuid: g.uuid, tag: g.tag, intervals: mergeIntervals(g.intervals) }));
  return { tsids };
}

function compareStrings(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Sorts and merges overlapping or adjacent intervals (`1-3` and `4-5` become `1-5`). */
function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && iv.start <= last.end + 1n) {
      if (iv.end > last.end) out[out.length - 1] = { start: last.start, end: iv.end };
    } else {
      out.push(iv);
    }
  }
  return out;
}

/** Applies `op` to each (uuid, tag) group of `a` with the matching group of `b`, dropping empty results. */
function combine(
  a: MysqlGtidSet,
  b: MysqlGtidSet,
  op: (x: readonly Interval[], y: readonly Interval[] | undefined) => readonly Interval[],
): MysqlGtidSet {
  const other = new Map(b.tsids.map((t) => [keyOf(t.uuid, t.tag), t.intervals] as const));
  const tsids: TsidIntervals[] = [];
  for (const t of a.tsids) {
    const intervals = op(t.intervals, other.get(keyOf(t.uuid, t.tag)));
    if (intervals.length > 0) tsids.push({ uuid: t.uuid, tag: t.tag, intervals });
  }
  return tsids.length === 0 ? EMPTY : { tsids };
}

/** `x \ y` for sorted, disjoint interval lists. */
function subtractIntervals(x: readonly Interval[], y: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = 0;
  for (const iv of x) {
    let start = iv.start;
    while (j < y.length && y[j]!.end < start) j++;
    let k = j;
    while (k < y.length && y[k]!.start <= iv.end) {
      const cut = y[k]!;
      if (cut.start > start) out.push({ start, end: cut.start - 1n });
      start = cut.end + 1n;
      if (cut.end >= iv.end) break;
      k++;
    }
    if (start <= iv.end) out.push({ start, end: iv.end });
  }
  return out;
}

/** `x ∩ y` for sorted, disjoint interval lists. */
function intersectIntervals(x: readonly Interval[], y: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i]!;
    const q = y[j]!;
    const start = p.start > q.start ? p.start : q.start;
    const end = p.end < q.end ? p.end : q.end;
    if (start <= end) out.push({ start, end });
    if (p.end < q.end) i++;
    else j++;
  }
  return out;
}
