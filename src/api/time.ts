/** RFC 3339 times as the API takes them (restore points): parsed strictly, kept to whole seconds in UTC. */

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|([+-])(\d\d):(\d\d))$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
type Numbers8 = [number, number, number, number, number, number, number, number];

/**
 * Parses an RFC 3339 time, truncated to whole seconds (fractions are cut off, as MOCO does); undefined when it is
 * not one or names a day or time that does not exist (JavaScript's own parser accepts Feb 30 and 24:00).
 */
export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const sign = m[7];
  const [y, mo, d, h, mi, s, oh, om] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) => Number(m[i] ?? '0')) as Numbers8;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = (DAYS[mo - 1] ?? 0) + (mo === 2 && leap ? 1 : 0);
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59) return undefined;
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi - (oh * 60 + om) * (sign === '-' ? -1 : 1), s, 0);
  return t;
}

/** `2026-05-26T12:34:56Z`: UTC, whole seconds. */
export function isoSeconds(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

