import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { checkCronSyntax, parseSchedule } from '../../../src/api/cron.ts';
import { ApiError } from '../../../src/api/errors.ts';

/** The next `n` activations after `after`, as ISO strings without milliseconds. */
function runs(schedule: string, after: string, n: number): string[] {
  const s = parseSchedule(schedule);
  const out: string[] = [];
  let t = new Date(after);
  for (let i = 0; i < n; i++) {
    t = s.next(t);
    out.push(t.toISOString().replace('.000Z', 'Z'));
  }
  return out;
}

describe('parseSchedule: next activations (UTC)', () => {
  const cases: [name: string, schedule: string, after: string, expected: string[]][] = [
    ['every minute, strictly after', '* * * * *', '2024-01-01T00:00:00Z', ['2024-01-01T00:01:00Z', '2024-01-01T00:02:00Z']],
    ['sub-seconds are ignored', '* * * * *', '2024-01-01T00:00:59.999Z', ['2024-01-01T00:01:00Z']],
    ['every 15 minutes across an hour', '*/15 * * * *', '2024-01-31T12:34:56Z', ['2024-01-31T12:45:00Z', '2024-01-31T13:00:00Z']],
    ['a stepped range', '1-30/10 * * * *', '2024-01-01T00:00:00Z', ['2024-01-01T00:01:00Z', '2024-01-01T00:11:00Z', '2024-01-01T00:21:00Z', '2024-01-01T01:01:00Z']],
    ['N/step runs to the maximum', '5/20 * * * *', '2024-01-01T00:00:00Z', ['2024-01-01T00:05:00Z', '2024-01-01T00:25:00Z', '2024-01-01T00:45:00Z', '2024-01-01T01:05:00Z']],
    ['a list', '0 1,13 * * *', '2024-01-01T02:00:00Z', ['2024-01-01T13:00:00Z', '2024-01-02T01:00:00Z']],
    ['@daily across a month end', '@daily', '2024-01-31T12:00:00Z', ['2024-02-01T00:00:00Z', '2024-02-02T00:00:00Z']],
    ['@midnight is @daily', '@midnight', '2024-12-31T23:59:59Z', ['2025-01-01T00:00:00Z']],
    ['@hourly', '@hourly', '2024-01-01T10:00:00Z', ['2024-01-01T11:00:00Z', '2024-01-01T12:00:00Z']],
    ['@weekly is Sunday midnight', '@weekly', '2024-01-03T00:00:00Z', ['2024-01-07T00:00:00Z', '2024-01-14T00:00:00Z']],
    ['@monthly across a year end', '@monthly', '2024-12-15T00:00:00Z', ['2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z']],
    ['@yearly', '@yearly', '2024-01-01T00:00:00Z', ['2025-01-01T00:00:00Z']],
    ['@annually at the exact time is the next year', '@annually', '2025-01-01T00:00:00Z', ['2026-01-01T00:00:00Z']],
    ['the 31st skips short months', '0 0 31 * *', '2024-01-31T12:00:00Z', ['2024-03-31T00:00:00Z', '2024-05-31T00:00:00Z', '2024-07-31T00:00:00Z', '2024-08-31T00:00:00Z']],
    ['Feb 29 only in leap years', '0 0 29 2 *', '2024-03-01T00:00:00Z', ['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z']],
    ['Feb 29 skips 2100 (not a leap year)', '0 0 29 2 *', '2096-03-01T00:00:00Z', ['2104-02-29T00:00:00Z']],
    ['day-of-month and day-of-week both restricted: either matches', '0 0 13 * FRI', '2024-02-01T00:00:00Z', ['2024-02-02T00:00:00Z', '2024-02-09T00:00:00Z', '2024-02-13T00:00:00Z', '2024-02-16T00:00:00Z']],
    ['day-of-week only (day-of-month "*")', '0 3 * * MON-FRI', '2024-01-05T04:00:00Z', ['2024-01-08T03:00:00Z', '2024-01-09T03:00:00Z']],
    ['day-of-month only (day-of-week "?")', '0 0 15 * ?', '2024-01-01T00:00:00Z', ['2024-01-15T00:00:00Z', '2024-02-15T00:00:00Z']],
    ['"*/1" in day-of-week still means "*"', '0 0 1 * */1', '2024-01-02T00:00:00Z', ['2024-02-01T00:00:00Z']],
    ['"*/2" in day-of-week is a restriction: either matches', '0 0 1 * */2', '2024-01-01T12:00:00Z', ['2024-01-02T00:00:00Z', '2024-01-04T00:00:00Z']],
    ['Feb 30 with a weekday fires on the weekday', '0 0 30 2 MON', '2024-02-01T00:00:00Z', ['2024-02-05T00:00:00Z', '2024-02-12T00:00:00Z']],
    ['names are case-insensitive', '0 0 1 jan,Jul *', '2024-02-01T00:00:00Z', ['2024-07-01T00:00:00Z', '2025-01-01T00:00:00Z']],
    ['weekday names in a range', '0 12 * * mon-WED', '2024-01-03T13:00:00Z', ['2024-01-08T12:00:00Z', '2024-01-09T12:00:00Z', '2024-01-10T12:00:00Z']],
    ['"*-5" reads as "*", as robfig does', '0 0 1 *-5 *', '2024-01-02T00:00:00Z', ['2024-02-01T00:00:00Z']],
    ['empty list items are dropped, as robfig does', '0,,30 * * * *', '2024-01-01T00:00:00Z', ['2024-01-01T00:30:00Z', '2024-01-01T01:00:00Z']],
    ['a UTC prefix', 'CRON_TZ=UTC 0 3 * * *', '2024-03-31T00:00:00Z', ['2024-03-31T03:00:00Z', '2024-04-01T03:00:00Z']],
    ['an Etc/UTC prefix with a descriptor', 'TZ=Etc/UTC @daily', '2024-01-01T00:00:00Z', ['2024-01-02T00:00:00Z']],
    ['no DST: a European DST night is a normal night', '30 1 * * *', '2024-03-30T12:00:00Z', ['2024-03-31T01:30:00Z', '2024-04-01T01:30:00Z']],
    ['@every counts from after', '@every 1h30m', '2024-01-01T00:00:10Z', ['2024-01-01T01:30:10Z', '2024-01-01T03:00:10Z']],
    ['@every drops sub-seconds of after', '@every 90s', '2024-01-01T00:00:00.750Z', ['2024-01-01T00:01:30Z']],
    ['@every drops sub-seconds of the duration', '@every 1.9s', '2024-01-01T00:00:00Z', ['2024-01-01T00:00:01Z']],
    ['@every with fractions and mixed units', '@every .5h1m', '2024-01-01T00:00:00Z', ['2024-01-01T00:31:00Z']],
  ];
  for (const [name, schedule, after, expected] of cases) {
    it(name, () => assert.deepEqual(runs(schedule, after, expected.length), expected));
  }

  it('keeps the text and refuses an invalid date', () => {
    const s = parseSchedule(' @daily ');
    assert.equal(s.text, ' @daily ');
    assert.throws(() => s.next(new Date('x')), (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT');
  });
});

describe('parseSchedule refuses', () => {
  const cases: [name: string, schedule: string, expected: string][] = [
    ['an empty schedule', '', 'it is empty; use 5 fields (minute hour day-of-month month day-of-week)'],
    ['four fields', '* * * *', 'it has 4 fields; use 5 fields'],
    ['a seconds field', '0 * * * * *', 'it has 6 fields (a seconds field is not supported)'],
    ['minute 60', '60 * * * *', 'the minute field "60": 60 is above the maximum 59; use 0-59, for example "*/15 * * * *"'],
    ['hour 24', '0 24 * * *', 'the hour field "24": 24 is above the maximum 23; use 0-23'],
    ['day-of-month 0', '0 0 0 * *', 'the day-of-month field "0": 0 is below the minimum 1; use 1-31'],
    ['month 13', '0 0 1 13 *', 'the month field "13": 13 is above the maximum 12; use 1-12 or JAN-DEC'],
    ['day-of-week 7 (robfig has 0-6)', '0 0 * * 7', 'the day-of-week field "7": 7 is above the maximum 6 (Sunday is 0 or SUN); use 0-6 or SUN-SAT'],
    ['a weekday range through Sunday (robfig has no wrap-around)', '0 0 * * SAT-SUN', 'the day-of-week field "SAT-SUN": the range "SAT-SUN" starts after it ends'],
    ['a reversed range', '5-1 * * * *', 'the minute field "5-1": the range "5-1" starts after it ends'],
    ['a step of 0', '*/0 * * * *', 'the minute field "*/0": the step after "/" must be at least 1'],
    ['a negative step', '*/-1 * * * *', 'the minute field "*/-1": -1 is negative'],
    ['two slashes', '1/2/3 * * * *', 'the minute field "1/2/3": "1/2/3" has more than one "/"'],
    ['two hyphens', '1-2-3 * * * *', 'the minute field "1-2-3": "1-2-3" has more than one "-"'],
    ['a word', 'x * * * *', 'the minute field "x": "x" is not a number; use 0-59'],
    ['a bad month name', '0 0 1 FOO *', 'the month field "FOO": "FOO" is not a number or a name; use 1-12 or JAN-DEC'],
    ['a weekday name in the month field', '0 0 1 MON *', 'the month field "MON": "MON" is not a number or a name'],
    ['a full month name', '0 0 1 january *', 'the month field "january": "january" is not a number or a name'],
    ['a list with no value', ', * * * *', 'the minute field ",": it lists no value'],
    ['an open range', '1- * * * *', 'the minute field "1-": "1-" lacks a number'],
    ['Feb 30', '0 0 30 2 *', 'it never fires: day-of-month 30 does not occur in month FEB; pick days that exist'],
    ['the 31st of April and June', '0 0 31 APR,JUN *', 'it never fires: day-of-month 31 does not occur in month APR,JUN'],
    ['an unknown descriptor', '@often', '"@often" is not a descriptor; use one of @yearly, @annually, @monthly'],
    ['a descriptor in upper case', '@DAILY', '"@DAILY" is not a descriptor'],
    ['@every without a duration', '@every', '"" is not a duration; use for example "@every 1h30m" or "@every 90s"'],
    ['@every with a bad unit', '@every 5x', '"5x" is not a duration'],
    ['@every with a bare number', '@every 5', '"5" is not a duration'],
    ['@every 0s', '@every 0s', '"0s" is shorter than 1s'],
    ['@every under a second', '@every 500ms', '"500ms" is shorter than 1s'],
    ['a negative @every', '@every -1h', '"-1h" is shorter than 1s'],
    ['an @every past Go\'s range', '@every 3000000h', 'is longer than Go\'s longest duration'],
    ['another time zone', 'CRON_TZ=Asia/Tokyo 0 0 1 * ?', 'schedules run in UTC locally; remove "CRON_TZ=Asia/Tokyo" or use CRON_TZ=UTC'],
    ['TZ= with nothing after it', 'TZ=UTC', '"TZ=UTC" must be followed by a space and the schedule'],
  ];
  for (const [name, schedule, expected] of cases) {
    it(name, () => {
      assert.throws(() => parseSchedule(schedule), (e: unknown) => {
        assert.ok(e instanceof ApiError && e.code === 'INVALID_ARGUMENT');
        const want = `"${schedule}" is not a cron schedule: `;
        assert.ok(e.message.startsWith(want), e.message);
        assert.ok(e.message.includes(expected), `missing "${expected}" in:\n${e.message}`);
        return true;
      });
    });
  }
});

describe('checkCronSyntax', () => {
  it('accepts any existing time zone, as Kubernetes does', () => {
    for (const s of ['CRON_TZ=Asia/Tokyo 0 0 1 * ?', 'TZ=America/New_York @daily', 'TZ=Local * * * * *']) {
      assert.doesNotThrow(() => checkCronSyntax(s), s);
    }
  });
  it('refuses unknown zones and bad fields', () => {
    assert.throws(() => checkCronSyntax('TZ=Mars/Base * * * * *'), /"Mars\/Base" is not a known time zone/);
    assert.throws(() => checkCronSyntax('TZ=Asia/Tokyo 61 * * * *'), /the minute field "61"/);
  });
});
