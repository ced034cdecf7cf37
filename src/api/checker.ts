/**
 * The problem collector behind every manifest check (the MySQLCluster, its BackupPolicy, its restore): typed
 * getters that report "path: what is wrong; how to fix" instead of throwing, so one {@link ManifestError}
 * lists every problem at once.
 */
import { ApiError, invalid } from './errors.ts';

/** A manifest that cannot be used; `problems` holds one line per problem ("path: what is wrong; how to fix"). */
export class ManifestError extends ApiError {
  readonly problems: string[];
  constructor(problems: string[], source?: string) {
    const lines = problems.map((p) => (source ? `${source}: ${p}` : p));
    super(lines.join('\n'));
    this.name = 'ManifestError';
    this.problems = problems;
  }
}

/** A YAML mapping. */
export type Obj = Record<string, unknown>;
/** True for a YAML mapping (not null, not a list). */
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** True unless absent or null (YAML `~`): Kubernetes treats both as "not set". */
export const given = (v: unknown): boolean => v !== undefined && v !== null;
/** A value as named in messages: "a list", "a mapping", `number 5`, `string "3"`. */
export const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : isObj(v) ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
/** Splits a whitespace-separated word list. */
export const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/**
 * Records a field that is accepted but has no effect locally (`path: why`); empty values (absent, false, 0, an
 * empty list) are not recorded.
 */
export type NotApplying = (path: string, v: unknown, why: string) => void;

/** A {@link NotApplying} that appends to `into`. */
export function notApplyingInto(into: string[]): NotApplying {
  return (path, v, why) => {
    const empty = !given(v) || v === false || v === 0 || (Array.isArray(v) && v.length === 0);
    if (!empty) into.push(`${path}: ${why}`);
  };
}

/** Edit distance counting an insertion, deletion, substitution or swap of neighbours as one edit. */
function editDistance(a: string, b: string): number {
  let [before, prev] = [[] as number[], Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const change = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, change);
      if (a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j] ?? 0, (before[j - 2] ?? 0) + 1);
    }
    [before, prev] = [prev, cur];
  }
  return prev[b.length] ?? 0;
}

const TYPES = {
  mapping: isObj,
  list: Array.isArray,
  string: (v: unknown) => typeof v === 'string',
  boolean: (v: unknown) => typeof v === 'boolean',
};

/** Collects problems; the typed getters report type errors and return undefined for absent, null or bad values. */
export class Checker {
  readonly problems: string[] = [];
  add(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }
  check(bad: unknown, path: string, message: string): void {
    if (bad) this.add(path, message);
  }
  /** Reports every key of `obj` not in `known`, suggesting the nearest known key ("did you mean"). */
  keys(obj: Obj, path: string, known: readonly string[], hint?: (key: string) => string | undefined): void {
    for (const key of Object.keys(obj).filter((k) => !known.includes(k))) {
      const [near] = known
        .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
        .filter(({ d }) => d <= Math.max(1, Math.floor(key.length / 3)))
        .sort((x, y) => x.d - y.d);
      const fix = hint?.(key) ?? (near ? `did you mean "${near.k}"?` : `remove it (known: ${known.join(', ')})`);
      this.add(path ? `${path}.${key}` : key, `unknown field; ${fix}`);
    }
  }
  required(v: unknown, path: string, what = 'add it'): boolean {
    this.check(!given(v), path, `is required but missing; ${what}`);
    return given(v);
  }
  typed(v: unknown, path: string, type: keyof typeof TYPES, required: boolean): unknown {
    if (v === '' && type === 'string') this.add(path, `must not be empty${required ? '' : '; set it or remove it'}`);
    else if (TYPES[type](v)) return v;
    else if (given(v)) {
      const fix = { list: '; write the items as "- ..." lines', string: isObj(v) ? '' : '; quote it' }[type as string];
      this.add(path, `expected a ${type}, got ${describe(v)}${fix ?? ''}`);
    }
    else if (required) this.required(v, path);
    return undefined;
  }
  obj = (v: unknown, path: string, required = false) => this.typed(v, path, 'mapping', required) as Obj | undefined;
  list = (v: unknown, path: string) => this.typed(v, path, 'list', false) as unknown[] | undefined;
  str = (v: unknown, path: string, required = false) => this.typed(v, path, 'string', required) as string | undefined;
  bool = (v: unknown, path: string) => this.typed(v, path, 'boolean', false) as boolean | undefined;
  int(v: unknown, path: string, min: number, max = 2 ** 31 - 1): number | undefined {
    if (!given(v)) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      const digits = typeof v === 'string' && /^-?\d+$/.test(v.trim());
      this.add(path, `expected an integer, got ${describe(v)}${digits ? '; write it without quotes' : ''}`);
    } else if (v < min) this.add(path, `${v} is too small; use ${min === 0 ? '0 or more' : `at least ${min}`}`);
    else if (v > max) this.add(path, `${v} is too large; use at most ${max}`);
    else return v;
    return undefined;
  }
  oneOf(v: unknown, path: string, allowed: string[], required = false): string | undefined {
    const s = this.str(v, path, required);
    this.check(s && !allowed.includes(s), path, `"${s}" is not supported; use one of ${allowed.join(', ')}`);
    return s !== undefined && allowed.includes(s) ? s : undefined;
  }
  quantity(v: unknown, path: string): number | undefined {
    try {
      if (typeof v === 'string' || typeof v === 'number') return parseQuantityBytes(v);
      this.check(given(v), path, `expected a quantity such as 1Gi, got ${describe(v)}`);
    } catch (err) {
      this.add(path, (err as Error).message);
    }
    return undefined;
  }
}

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** Parses a Kubernetes quantity (512Mi, 1Gi, 2G, 1e9, 1.5Gi, 100) into bytes, rounding up like Kubernetes. */
export function parseQuantityBytes(q: string | number): number {
  const bad = (why: string) => invalid(`${JSON.stringify(q)} ${why}; use for example 512Mi, 1Gi or 2G`);
  if (typeof q === 'number') {
    if (!Number.isFinite(q) || q < 0) throw bad('is not a non-negative quantity');
    return Math.ceil(q);
  }
  const m = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:([KMGTPE]i|[numkMGTPE])|[eE]([+-]?\d{1,4}))?$/.exec(q.trim());
  if (!m) throw bad('is not a Kubernetes quantity');
  const [whole = '', frac = ''] = (m[1] ?? '').split('.');
  const digits = BigInt(whole + frac || '0') << BigInt(BINARY[m[2] ?? ''] ?? 0);
  const exp = (m[3] !== undefined ? Number(m[3]) : (DECIMAL[m[2] ?? ''] ?? 0)) - frac.length;
  let n: bigint;
  if (digits === 0n) n = 0n;
  else if (exp > 30) throw bad('is too large');
  else if (exp >= 0) n = digits * 10n ** BigInt(exp);
  else if (-exp > digits.toString().length) n = 1n; // a positive fraction of a byte rounds up to 1
  else n = (digits + 10n ** BigInt(-exp) - 1n) / 10n ** BigInt(-exp);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('is too large');
  return Number(n);
}
