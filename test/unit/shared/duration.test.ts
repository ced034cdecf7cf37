import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatDuration, parseDuration } from '../../../src/shared/duration.ts';
import { hasCode } from '../../../src/shared/errors.ts';

describe('parseDuration', () => {
  const cases: { name: string; text: string; ms: number }[] = [
    { name: 'zero', text: '0', ms: 0 },
    { name: 'a bare number is seconds', text: '30', ms: 30_000 },
    { name: 'a bare fraction is seconds', text: '1.5', ms: 1_500 },
    { name: 'milliseconds', text: '250ms', ms: 250 },
    { name: 'seconds', text: '30s', ms: 30_000 },
    { name: 'fractional seconds', text: '1.5s', ms: 1_500 },
    { name: 'minutes', text: '1m', ms: 60_000 },
    { name: 'hours', text: '2h', ms: 7_200_000 },
    { name: 'minutes and seconds', text: '1m30s', ms: 90_000 },
    { name: 'hours and minutes', text: '1h30m', ms: 5_400_000 },
    { name: 'every unit', text: '1h1m1s1ms', ms: 3_661_001 },
    { name: 'zero with a unit', text: '0s', ms: 0 },
    { name: 'surrounding blanks', text: ' 5s ', ms: 5_000 },
    { name: 'sub-millisecond rounds', text: '0.4ms', ms: 0 },
  ];
  for (const c of cases) it(`${c.name}: "${c.text}"`, () => assert.equal(parseDuration(c.text), c.ms));

  const bad = ['', ' ', 's', '5x', '5 s', '1m 30s', '-1s', '1d', '1.s', 'ms5', '5sec', '1e3'];
  for (const text of bad) {
    it(`rejects "${text}" naming what it parsed`, () => {
      assert.throws(() => parseDuration(text, '--max-delay'), (err: unknown) => {
        assert.ok(hasCode(err, 'INVALID_ARGUMENT'));
        assert.ok(err.message.startsWith('--max-delay: '), err.message);
        assert.ok(err.message.includes(`"${text}"`));
        return true;
      });
    });
  }
});

describe('formatDuration', () => {
  const cases: { name: string; ms: number; text: string }[] = [
    { name: 'zero', ms: 0, text: '0ms' },
    { name: 'milliseconds', ms: 250, text: '250ms' },
    { name: 'whole seconds', ms: 1_000, text: '1s' },
    { name: 'fractional seconds', ms: 1_500, text: '1.5s' },
    { name: 'seconds round to a tenth', ms: 2_345, text: '2.3s' },
    { name: 'one minute', ms: 60_000, text: '1m' },
    { name: 'minutes and seconds', ms: 90_000, text: '1m30s' },
    { name: 'seconds that round up to the next minute carry over', ms: 119_999, text: '2m' },
    { name: 'an hour and a half in minutes', ms: 5_400_000, text: '90m' },
  ];
  for (const c of cases) it(`${c.name}: ${c.ms}`, () => assert.equal(formatDuration(c.ms), c.text));

  it('what it formats parses back to about the same', () => {
    for (const ms of [0, 7, 999, 1_000, 1_500, 59_000, 60_000, 61_000, 119_999, 3_599_000, 7_200_000]) {
      const back = parseDuration(formatDuration(ms));
      assert.ok(Math.abs(back - ms) <= 500, `${ms} → ${formatDuration(ms)} → ${back}`);
    }
  });
});
