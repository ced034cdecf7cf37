/**
 * Durations are strings at the edges ("30s", "1m", "250ms", "1h30m") and milliseconds inside.
 */
import { invalidArgument } from './errors.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go-style duration ("1m30s", "250ms", "0") into milliseconds. A bare number means seconds.
 * @throws MocoError INVALID_ARGUMENT naming `what` for anything else or a negative value.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (s === '' || matched !== s.length) {
    throw invalidArgument(`${what}: "${text}" is not a duration; use for example "30s", "1m" or "250ms"`);
  }
  return Math.round(total);
}

/** Formats milliseconds for humans: 1500 → "1.5s", 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  // Round to whole seconds first, so that 119999 gives "2m" and not "1m60s".
  const total = Math.round(ms / 1000);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return s === 0 ? `${m}m` : `${m}m${s}s`;
}
