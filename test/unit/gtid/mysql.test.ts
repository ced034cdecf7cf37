import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { hasCode } from '../../../src/shared/errors.ts';
import * as g from '../../../src/gtid/mysql.ts';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '2174b383-5441-11e8-b90a-c80aa9429562';
const C = '24da1670-0c0c-11e8-8442-00059a3c7b00';

/** Parses and formats back: the normal form of `text`. */
const norm = (text: string): string => g.format(g.parse(text));

function assertInvalid(fn: () => unknown, part: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(hasCode(err, 'INVALID_ARGUMENT'), `want INVALID_ARGUMENT, got ${String(err)}`);
    assert.ok(err.message.includes(`'${part}'`), `message ${JSON.stringify(err.message)} should name '${part}'`);
    return true;
  });
}

describe('mysql GTID set parsing', () => {
  const cases: { name: string; text: string; want: string }[] = [
    { name: 'docs: one uuid, one interval', text: '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', want: `${A}:1-5` },
    { name: 'docs: a single GTID', text: '3E11FA47-71CA-11E1-9E33-C80AA9429562:23', want: `${A}:23` },
    { name: 'docs: multiple intervals', text: '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-3:11:47-49', want: `${A}:1-3:11:47-49` },
    {
      name: 'docs: multiple uuids',
      text: '2174B383-5441-11E8-B90A-C80AA9429562:1-3, 24DA1670-0C0C-11E8-8442-00059A3C7B00:1-19',
      want: `${B}:1-3,${C}:1-19`,
    },
    { name: 'docs: tagged', text: '3E11FA47-71CA-11E1-9E33-C80AA9429562:Domain_1:1-3:11:47-49', want: `${A}:domain_1:1-3:11:47-49` },
    {
      name: 'docs: two tags of one uuid in two elements',
      text: `${A}:Domain_1:1-3:11:47-49, ${A}:Domain_2:8-52`,
      want: `${A}:domain_1:1-3:11:47-49:domain_2:8-52`,
    },
    { name: 'untagged and tagged intervals of one uuid', text: `${A}:1-5:tag_a:1-3:7`, want: `${A}:1-5:tag_a:1-3:7` },
    { name: 'as MySQL prints it, with ,\\n', text: `${B}:1-3,\n${C}:1-19`, want: `${B}:1-3,${C}:1-19` },
    { name: 'whitespace around every separator', text: `  ${A} : 1 - 5 : 7 ,\n\t ${B}:3  `, want: `${B}:3,${A}:1-5:7` },
    { name: 'empty string is the empty set', text: '', want: '' },
    { name: 'only whitespace and commas is empty', text: ' ,\n, ', want: '' },
    { name: 'trailing comma', text: `${A}:1-5,`, want: `${A}:1-5` },
    { name: 'uuids sorted', text: `${C}:1,${A}:2,${B}:3`, want: `${B}:3,${C}:1,${A}:2` },
    { name: 'tags sorted, untagged first', text: `${A}:zz:1,${A}:1,${A}:AA:2`, want: `${A}:1:aa:2:zz:1` },
    { name: 'tag case folded and merged', text: `${A}:Tag:1-2,${A}:TAG:3`, want: `${A}:tag:1-3` },
    { name: 'repeated uuid merged', text: `${A}:1-3,${A}:4-6`, want: `${A}:1-6` },
    { name: 'overlapping intervals merged', text: `${A}:5-10:1-6:12`, want: `${A}:1-10:12` },
    { name: 'adjacent intervals merged', text: `${A}:1-3:4-5:7`, want: `${A}:1-5:7` },
    { name: 'contained interval absorbed', text: `${A}:1-10:3-4`, want: `${A}:1-10` },
    { name: 'n-n prints as n', text: `${A}:7-7`, want: `${A}:7` },
    { name: 'largest sequence number', text: `${A}:9223372036854775807`, want: `${A}:9223372036854775807` },
    { name: 'interval up to 2^63-1', text: `${A}:1-9223372036854775807`, want: `${A}:1-9223372036854775807` },
    { name: 'leading-underscore tag', text: `${A}:_x:1`, want: `${A}:_x:1` },
    { name: '32-character tag', text: `${A}:${'t'.repeat(32)}:1`, want: `${A}:${'t'.repeat(32)}:1` },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(norm(c.text), c.want));
  }

  it('keeps bigint sequence numbers exact', () => {
    const set = g.parse(`${A}:9223372036854775806-9223372036854775807`);
    assert.deepEqual(set.tsids[0]?.intervals, [{ start: 9223372036854775806n, end: 9223372036854775807n }]);
  });
});

describe('mysql GTID set malformed input', () => {
  const cases: { name: string; text: string; part: string }[] = [
    { name: 'not a uuid', text: 'not-a-uuid:1-5', part: 'not-a-uuid' },
    { name: 'short uuid (the docs typo)', text: `${B}:1-3, 24DA167-0C0C-11E8-8442-00059A3C7B00:1-19`, part: '24DA167-0C0C-11E8-8442-00059A3C7B00' },
    { name: 'uuid with a non-hex digit', text: '3e11fa47-71ca-11e1-9e33-c80aa942956g:1', part: '3e11fa47-71ca-11e1-9e33-c80aa942956g' },
    { name: 'uuid without intervals', text: A, part: A },
    { name: 'tag without intervals', text: `${A}:1:tag_a`, part: `${A}:1:tag_a` },
    { name: 'two tags in a row', text: `${A}:tag_a:tag_b:1`, part: 'tag_a' },
    { name: 'tag with a dash', text: `${A}:1:tag-x:2`, part: 'tag-x' },
    { name: 'tag of 33 characters', text: `${A}:${'t'.repeat(33)}:1`, part: 't'.repeat(33) },
    { name: 'interval with a letter', text: `${A}:1-x`, part: '1-x' },
    { name: 'interval without an end', text: `${A}:1-`, part: '1-' },
    { name: 'empty interval', text: `${A}::1`, part: '' },
    { name: 'negative number', text: `${A}:-1`, part: '-1' },
    { name: 'interval starting at 0', text: `${A}:0-5`, part: '0-5' },
    { name: 'single 0', text: `${A}:0`, part: '0' },
    { name: 'end before start', text: `${A}:5-3`, part: '5-3' },
    { name: 'number above 2^63-1', text: `${A}:9223372036854775808`, part: '9223372036854775808' },
    { name: 'end above 2^63-1', text: `${A}:1-99999999999999999999`, part: '1-99999999999999999999' },
    { name: 'MariaDB text', text: '0-1-27', part: '0-1-27' },
  ];
  for (const c of cases) {
    it(c.name, () => assertInvalid(() => g.parse(c.text), c.part));
  }
});

describe('mysql GTID set algebra', () => {
  const subtractCases: { name: string; a: string; b: string; want: string }[] = [
    { name: 'holes cut out', a: `${A}:1-10`, b: `${A}:3-4:6-7`, want: `${A}:1-2:5:8-10` },
    { name: 'overlap at both ends', a: `${A}:1-5:10-15`, b: `${A}:4-11`, want: `${A}:1-3:12-15` },
    { name: 'everything removed', a: `${A}:1-5,${B}:1`, b: `${A}:1-10,${B}:1-2`, want: '' },
    { name: 'other uuid untouched', a: `${A}:1-5,${B}:1-3`, b: `${A}:1-5`, want: `${B}:1-3` },
    { name: 'tagged is not untagged', a: `${A}:t:1-3`, b: `${A}:1-3`, want: `${A}:t:1-3` },
    { name: 'untagged is not tagged', a: `${A}:1-3`, b: `${A}:t:1-3`, want: `${A}:1-3` },
    { name: 'tag removed, untagged kept', a: `${A}:1-3:t:1-3`, b: `${A}:t:2`, want: `${A}:1-3:t:1:3` },
    { name: 'minus empty', a: `${A}:1-3`, b: '', want: `${A}:1-3` },
    { name: 'empty minus anything', a: '', b: `${A}:1-3`, want: '' },
    { name: 'top of the range', a: `${A}:1-9223372036854775807`, b: `${A}:9223372036854775807`, want: `${A}:1-9223372036854775806` },
  ];
  for (const c of subtractCases) {
    it(`subtract: ${c.name}`, () => assert.equal(g.format(g.subtract(g.parse(c.a), g.parse(c.b))), c.want));
  }

  const unionCases: { name: string; a: string; b: string; want: string }[] = [
    { name: 'adjacent merge', a: `${A}:1-3`, b: `${A}:4-5,${B}:1`, want: `${B}:1,${A}:1-5` },
    { name: 'tags kept apart', a: `${A}:1-3`, b: `${A}:t:1-3`, want: `${A}:1-3:t:1-3` },
    { name: 'with empty', a: '', b: `${A}:2`, want: `${A}:2` },
    { name: 'gap kept', a: `${A}:1-3`, b: `${A}:5`, want: `${A}:1-3:5` },
  ];
  for (const c of unionCases) {
    it(`union: ${c.name}`, () => assert.equal(g.format(g.union(g.parse(c.a), g.parse(c.b))), c.want));
  }

  const intersectCases: { name: string; a: string; b: string; want: string }[] = [
    { name: 'overlaps per tag', a: `${A}:1-10:t:1-5,${B}:1-3`, b: `${A}:5-20:t:4-9`, want: `${A}:5-10:t:4-5` },
    { name: 'disjoint', a: `${A}:1-3`, b: `${A}:4-6`, want: '' },
    { name: 'tagged vs untagged', a: `${A}:t:1-3`, b: `${A}:1-3`, want: '' },
    { name: 'many small pieces', a: `${A}:1-2:4-5:7-8`, b: `${A}:2-7`, want: `${A}:2:4-5:7` },
  ];
  for (const c of intersectCases) {
    it(`intersect: ${c.name}`, () => assert.equal(g.format(g.intersect(g.parse(c.a), g.parse(c.b))), c.want));
  }

  const subsetCases: { name: string; a: string; b: string; want: boolean }[] = [
    { name: 'inside', a: `${A}:2-3`, b: `${A}:1-5`, want: true },
    { name: 'equal', a: `${A}:1-5`, b: `${A}:1-3:4-5`, want: true },
    { name: 'empty in anything', a: '', b: `${A}:1`, want: true },
    { name: 'empty in empty', a: '', b: '', want: true },
    { name: 'something not in empty', a: `${A}:1`, b: '', want: false },
    { name: 'one more GTID', a: `${A}:1-6`, b: `${A}:1-5`, want: false },
    { name: 'extra uuid', a: `${A}:1-3,${B}:1`, b: `${A}:1-5`, want: false },
    { name: 'tagged not in untagged', a: `${A}:t:1-3`, b: `${A}:1-3`, want: false },
    { name: 'tagged in tagged', a: `${A}:t:2`, b: `${A}:1-3:T:1-3`, want: true },
    { name: 'hole in b', a: `${A}:1-5`, b: `${A}:1-2:4-5`, want: false },
  ];
  for (const c of subsetCases) {
    it(`isSubset: ${c.name}`, () => assert.equal(g.isSubset(g.parse(c.a), g.parse(c.b)), c.want));
  }

  it('isEmpty, equals, sourceIds', () => {
    assert.equal(g.isEmpty(g.parse('')), true);
    assert.equal(g.isEmpty(g.parse(`${A}:1`)), false);
    assert.equal(g.isEmpty(g.subtract(g.parse(`${A}:1`), g.parse(`${A}:1`))), true);
    assert.equal(g.equals(g.parse(`${A}:1-3:4-5`), g.parse(`${A.toUpperCase()}:1-5`)), true);
    assert.equal(g.equals(g.parse(`${A}:1-5`), g.parse(`${A}:t:1-5`)), false);
    assert.deepEqual(g.sourceIds(g.parse(`${A}:1,${A}:t:2,${B}:3`)), [B, A]);
    assert.deepEqual(g.sourceIds(g.EMPTY), []);
  });

  it('format with MySQL separator', () => {
    assert.equal(g.format(g.parse(`${A}:1,${B}:2`), ',\n'), `${B}:2,\n${A}:1`);
  });

  it('toRanges and fromRanges round trip', () => {
    const set = g.parse(`${A}:1-5:7:t:1-3,${B}:9`);
    assert.deepEqual(g.toRanges(set), [
      { uuid: B, tag: '', start: 9n, end: 9n },
      { uuid: A, tag: '', start: 1n, end: 5n },
      { uuid: A, tag: '', start: 7n, end: 7n },
      { uuid: A, tag: 't', start: 1n, end: 3n },
    ]);
    assert.ok(g.equals(g.fromRanges(g.toRanges(set)), set));
    assert.equal(g.format(g.fromRanges([{ uuid: A.toUpperCase(), tag: 'T', start: 3n, end: 4n }, { uuid: A, tag: 't', start: 1n, end: 2n }])), `${A}:t:1-4`);
  });

  it('fromRanges rejects bad ranges', () => {
    assertInvalid(() => g.fromRanges([{ uuid: 'x', tag: '', start: 1n, end: 1n }]), 'x');
    assertInvalid(() => g.fromRanges([{ uuid: A, tag: '9t', start: 1n, end: 1n }]), '9t');
    assertInvalid(() => g.fromRanges([{ uuid: A, tag: '', start: 0n, end: 1n }]), '0-1');
    assertInvalid(() => g.fromRanges([{ uuid: A, tag: '', start: 3n, end: 2n }]), '3-2');
    assertInvalid(() => g.fromRanges([{ uuid: A, tag: '', start: 1n, end: g.MAX_GNO + 1n }]), `1-${g.MAX_GNO + 1n}`);
  });
});

describe('mysql GTID set algebra against brute force', () => {
  // A fixed-seed generator: deterministic, no clock.
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const tsids = [`${A}:`, `${A}:t:`, `${B}:`];
  const randomSet = (): { text: string; members: Set<string> } => {
    const members = new Set<string>();
    const parts: string[] = [];
    for (let i = rand(5); i > 0; i--) {
      const prefix = tsids[rand(tsids.length)] ?? '';
      const start = 1 + rand(30);
      const end = start + rand(6);
      parts.push(`${prefix}${start}-${end}`);
      for (let n = start; n <= end; n++) members.add(`${prefix}${n}`);
    }
    return { text: parts.join(','), members };
  };
  const membersOf = (set: g.MysqlGtidSet): Set<string> => {
    const out = new Set<string>();
    for (const r of g.toRanges(set)) {
      const prefix = r.tag === '' ? `${r.uuid}:` : `${r.uuid}:${r.tag}:`;
      for (let n = r.start; n <= r.end; n++) out.add(`${prefix}${n}`);
    }
    return out;
  };
  const sorted = (s: Set<string>): string[] => [...s].sort();

  it('union, subtract, intersect, isSubset agree with plain sets on 300 random pairs', () => {
    for (let i = 0; i < 300; i++) {
      const a = randomSet();
      const b = randomSet();
      const pa = g.parse(a.text);
      const pb = g.parse(b.text);
      const ctx = `${a.text} | ${b.text}`;
      assert.deepEqual(sorted(membersOf(g.union(pa, pb))), sorted(new Set([...a.members, ...b.members])), ctx);
      assert.deepEqual(sorted(membersOf(g.subtract(pa, pb))), sorted(new Set([...a.members].filter((m) => !b.members.has(m)))), ctx);
      assert.deepEqual(sorted(membersOf(g.intersect(pa, pb))), sorted(new Set([...a.members].filter((m) => b.members.has(m)))), ctx);
      assert.equal(g.isSubset(pa, pb), [...a.members].every((m) => b.members.has(m)), ctx);
      assert.equal(norm(g.format(pa)), g.format(pa), `format is a fixed point: ${a.text}`);
    }
  });
});
