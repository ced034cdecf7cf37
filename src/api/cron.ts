/**
 * Cron schedules as Kubernetes CronJobs read them (robfig/cron v3 `ParseStandard`): five fields
 * (minute hour day-of-month month day-of-week), `*` and `?`, lists, ranges, steps, month and weekday names,
 * the `@yearly`..`@hourly` descriptors and `@every <Go duration>`, with an optional `TZ=`/`CRON_TZ=` prefix.
 * Local schedules run in UTC, so {@link parseSchedule} accepts only a UTC prefix.
 *
 * Where this is stricter than robfig, on purpose (each would be a schedule that never or too often fires):
 * a field that lists no value (","), a day-of-month that no chosen month has ("0 0 30 2 *"), and an `@every`
 * shorter than 1s (robfig silently runs those every second) are errors.
 */
import { ApiError, invalid } from './errors.ts';

/** A parsed schedule; times are UTC with whole-second resolution. */
export interface Schedule {
  /** The schedule as written. */
  readonly text: string;
  /**
   * The first activation strictly after `after` (sub-second parts of `after` are ignored first).
   * Field schedules fire at second 0 of a matching minute; `@every D` fires at `after` (truncated to the
   * second) plus D, so it counts from the previous run.
   * @throws ApiError for an invalid date.
   */
  next(after: Date): Date;
}

interface Field {
  name: string;
  min: number;
  max: number;
  /** Lower-case names, index 0 = `min`. */
  names?: string[];
  /** A whole schedule that shows this field in use. */
  example: string;
}

const MONTHS = 'jan feb mar apr may jun jul aug sep oct nov dec'.split(' ');
const WEEKDAYS = 'sun mon tue wed thu fri sat'.split(' ');
const FIELDS: Field[] = [
  { name: 'minute', min: 0, max: 59, example: '"*/15 * * * *" (every 15 minutes)' },
  { name: 'hour', min: 0, max: 23, example: '"0 9-17 * * *" (on the hour from 09:00 to 17:00)' },
  { name: 'day-of-month', min: 1, max: 31, example: '"0 0 1,15 * *" (midnight on the 1st and 15th)' },
  { name: 'month', min: 1, max: 12, names: MONTHS, example: '"0 0 1 JAN-MAR *" (monthly from January to March)' },
  { name: 'day-of-week', min: 0, max: 6, names: WEEKDAYS, example: '"0 3 * * MON-FRI" (03:00 on weekdays)' },
];
const SHAPE = 'use 5 fields (minute hour day-of-month month day-of-week) such as "0 3 * * *" (daily at 03:00), ' +
  'or a descriptor such as "@daily"';
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};
/** Zones that mean UTC; `TZ=` with an empty name is UTC in Go's time.LoadLocation. */
const UTC_ZONES = ['UTC', 'Etc/UTC', ''];
/** Days in each month of a leap year: a day-of-month that exists in some year. */
const MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** The longest gap between two activations is 8 years (Feb 29 around 2100); searching further is a bug. */
const SEARCH_YEARS = 10;

/**
 * Parses a schedule for local use. Accepts what robfig/cron's `ParseStandard` accepts with the exceptions in
 * the module comment, and a `TZ=`/`CRON_TZ=` prefix only when it names UTC or Etc/UTC.
 * @throws ApiError whose message quotes the schedule, names the bad field and gives an example.
 */
export function parseSchedule(text: string): Schedule {
  return parse(text, false);
}

/**
 * Checks a schedule that only matters on Kubernetes (such as `logRotationSchedule`): like
 * {@link parseSchedule}, but any time zone that exists is accepted in the prefix.
 * @throws ApiError like parseSchedule.
 */
export function checkCronSyntax(text: string): void {
  parse(text, true);
}

function parse(text: string, anyZone: boolean): Schedule {
  const bad = (why: string) => invalid(`"${text}" is not a cron schedule: ${why}`);
  let spec = text.trim();
  const tz = /^((?:CRON_)?TZ)=(\S*)/.exec(spec);
  if (tz) {
    const [prefix, key, zone = ''] = tz;
    if (!/^\s/.test(spec.slice(prefix.length))) throw bad(`"${prefix}" must be followed by a space and the schedule`);
    if (!anyZone && !UTC_ZONES.includes(zone)) {
      throw bad(`schedules run in UTC locally; remove "${prefix}" or use ${key}=UTC`);
    }
    if (anyZone && !UTC_ZONES.includes(zone) && zone !== 'Local' && !knownZone(zone)) {
      throw bad(`"${zone}" is not a known time zone; use an IANA name such as UTC or Asia/Tokyo`);
    }
    spec = spec.slice(prefix.length).trim();
  }
  if (spec.startsWith('@every ') || spec === '@every') return every(text, spec.slice('@every'.length).trim(), bad);
  if (spec.startsWith('@')) {
    const known = `use one of ${Object.keys(DESCRIPTORS).join(', ')}, or "@every 1h30m"`;
    const fields = DESCRIPTORS[spec];
    if (fields === undefined) throw bad(`"${spec}" is not a descriptor; ${known}`);
    spec = fields;
  }
  if (spec === '') throw bad(`it is empty; ${SHAPE}`);
  const parts = spec.split(/\s+/);
  if (parts.length !== 5) {
    const seconds = parts.length === 6 ? ' (a seconds field is not supported)' : '';
    throw bad(`it has ${parts.length} field${parts.length === 1 ? '' : 's'}${seconds}; ${SHAPE}`);
  }
  const sets = parts.map((part, i) => parseField(part, FIELDS[i] as Field, bad));
  const [minute, hour, dom, month, dow] = sets as [FieldSet, FieldSet, FieldSet, FieldSet, FieldSet];
  // robfig: when either day field is a plain "*" or "?", both must match; otherwise either one.
  const both = dom.star || dow.star;
  if (both && dow.star) {
    const possible = dom.values.some((on, d) => on && month.values.some((m, i) => m && d <= (MAX_DAYS[i - 1] ?? 0)));
    if (!possible) {
      const days = list(dom.values, FIELDS[2] as Field);
      const months = list(month.values, FIELDS[3] as Field);
      throw bad(`it never fires: day-of-month ${days} does not occur in month ${months}; pick days that ` +
        `exist in the chosen months, for example ${(FIELDS[2] as Field).example}`);
    }
  }
  return new FieldSchedule(text, minute.values, hour.values, dom.values, month.values, dow.values, both);
}

function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

interface FieldSet {
  /** values[v] is true when v is chosen. */
  values: boolean[];
  /** A plain `*` or `?` (step 1) appears: robfig's "star bit", which changes how the two day fields combine. */
  star: boolean;
}

function parseField(part: string, f: Field, bad: (why: string) => ApiError): FieldSet {
  const range = f.names ? `${f.min}-${f.max} or ${f.names[0]?.toUpperCase()}-${f.names.at(-1)?.toUpperCase()}` :
    `${f.min}-${f.max}`;
  const fix = `use ${range}, for example ${f.example}`;
  const fail = (why: string) => bad(`the ${f.name} field "${part}": ${why}; ${fix}`);
  const values: boolean[] = Array.from({ length: f.max + 1 }, () => false);
  let star = false;
  // Go's strings.FieldsFunc drops empty items, so "1,,2" is "1,2".
  const exprs = part.split(',').filter(Boolean);
  if (exprs.length === 0) throw fail('it lists no value');
  for (const expr of exprs) {
    const [rangePart = '', stepPart, ...moreSlashes] = expr.split('/');
    if (moreSlashes.length > 0) throw fail(`"${expr}" has more than one "/"`);
    const [low = '', high, ...moreHyphens] = rangePart.split('-');
    let start: number;
    let end: number;
    let isStar = false;
    // robfig reads only what precedes the first "-" when it is "*" or "?": "*-5" is "*".
    if (low === '*' || low === '?') [start, end, isStar] = [f.min, f.max, true];
    else {
      if (moreHyphens.length > 0) throw fail(`"${expr}" has more than one "-"`);
      start = number(low, f, fail, expr);
      end = high === undefined ? start : number(high, f, fail, expr);
    }
    let step = 1;
    if (stepPart !== undefined) {
      step = number(stepPart, undefined, fail, expr);
      if (high === undefined && !isStar) end = f.max; // "N/step" means "N-max/step"
      if (step > 1) isStar = false;
    }
    if (start < f.min) throw fail(`${start} is below the minimum ${f.min}`);
    if (end > f.max) {
      const sunday = f.name === 'day-of-week' && end === 7 ? ' (Sunday is 0 or SUN)' : '';
      throw fail(`${end} is above the maximum ${f.max}${sunday}`);
    }
    if (start > end) throw fail(`the range "${rangePart}" starts after it ends`);
    if (step === 0) throw fail('the step after "/" must be at least 1');
    for (let v = start; v <= end; v += step) values[v] = true;
    star ||= isStar;
  }
  return { values, star };
}

/** A non-negative decimal (Go's strconv.Atoi, so "+5" and "05" are fine) or, when `f` has names, a name. */
function number(s: string, f: Field | undefined, fail: (why: string) => ApiError, expr: string): number {
  const named = f?.names?.indexOf(s.toLowerCase()) ?? -1;
  if (f && named >= 0) return named + f.min;
  if (/^[+-]?\d+$/.test(s)) {
    const n = Number(s);
    if (n < 0) throw fail(`${s} is negative`);
    return n;
  }
  const what = f?.names ? 'a number or a name' : 'a number';
  throw fail(s === '' ? `"${expr}" lacks a number` : `"${s}" is not ${what}`);
}

/** "30" or "30,31" or "FEB,APR" for messages. */
function list(values: boolean[], f: Field): string {
  const name = (v: number) => (f.names ? (f.names[v - f.min] ?? '').toUpperCase() : String(v));
  return values.flatMap((on, v) => (on ? [name(v)] : [])).join(',');
}

const NS: Record<string, bigint> = {
  ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_NS = 2n ** 63n - 1n;

/** `@every <Go duration>`: fires every whole number of seconds of the duration (robfig drops the rest). */
function every(text: string, duration: string, bad: (why: string) => ApiError): Schedule {
  const fix = 'use for example "@every 1h30m" or "@every 90s"';
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(duration);
  if (!m) throw bad(`"${duration}" is not a duration; ${fix}`);
  let ns = 0n;
  for (const [, whole = '', frac = '', unit = ''] of (m[2] ?? '').matchAll(/(\d*)\.?(\d*)(ns|us|µs|μs|ms|s|m|h)/g)) {
    const scale = NS[unit] ?? 0n;
    ns += BigInt(whole || '0') * scale + (BigInt(frac || '0') * scale) / 10n ** BigInt(frac.length);
    if (ns > MAX_NS) throw bad(`"${duration}" is longer than Go's longest duration (about 292 years); ${fix}`);
  }
  const seconds = m[1] === '-' ? 0n : ns / 1_000_000_000n;
  if (seconds < 1n) throw bad(`"${duration}" is shorter than 1s; ${fix}`);
  const delayMs = Number(seconds) * 1000;
  return {
    text,
    next(after: Date): Date {
      return new Date(wholeSeconds(after) + delayMs);
    },
  };
}

function wholeSeconds(d: Date): number {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw invalid('cannot compute the next run after an invalid date');
  return Math.floor(ms / 1000) * 1000;
}

/** A UTC time from calendar fields (Date.UTC would read years 0-99 as 1900-1999). */
function utc(y: number, mo: number, d = 1, h = 0, mi = 0): Date {
  const t = new Date(0);
  t.setUTCFullYear(y, mo, d);
  t.setUTCHours(h, mi, 0, 0);
  return t;
}

class FieldSchedule implements Schedule {
  constructor(
    readonly text: string,
    private readonly minute: boolean[],
    private readonly hour: boolean[],
    private readonly dom: boolean[],
    private readonly month: boolean[],
    private readonly dow: boolean[],
    /** Both day fields must match (one of them is "*"); otherwise either one. */
    private readonly bothDays: boolean,
  ) {}

  next(after: Date): Date {
    const start = wholeSeconds(after) + 1000;
    let t = new Date(Math.ceil(start / 60_000) * 60_000); // fields fire at second 0
    const limit = t.getUTCFullYear() + SEARCH_YEARS;
    while (t.getUTCFullYear() <= limit) {
      const [y, mo, d] = [t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()];
      const [h, mi] = [t.getUTCHours(), t.getUTCMinutes()];
      const domMatch = this.dom[d] === true;
      const dowMatch = this.dow[t.getUTCDay()] === true;
      if (!this.month[mo + 1]) t = utc(y, mo + 1);
      else if (this.bothDays ? !(domMatch && dowMatch) : !(domMatch || dowMatch)) t = utc(y, mo, d + 1);
      else if (!this.hour[h]) t = utc(y, mo, d, h + 1);
      else if (!this.minute[mi]) t = utc(y, mo, d, h, mi + 1);
      else return t;
    }
    // parse() refuses schedules that never fire, so this is a bug rather than a user error.
    throw new Error(`schedule "${this.text}" has no time in the ${SEARCH_YEARS} years after ` +
      `${after.toISOString()}`);
  }
}
