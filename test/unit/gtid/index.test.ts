import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { hasCode } from '../../../src/shared/errors.ts';
import {
  errantSources,
  formatGtid,
  fromIntervals,
  gtidContains,
  gtidUnion,
  isEmptyGtid,
  mariadbDomainMaxText,
  mariadbMerge,
  parseGtid,
  toIntervals,
  validateGtidText,
  type Flavor,
  type GtidInterval,
} from '../../../src/gtid/index.ts';

const P = '3e11fa47-71ca-11e1-9e33-c80aa9429562'; // the primary's server_uuid
const R = '2174b383-5441-11e8-b90a-c80aa9429562'; // a replica's server_uuid

function assertInvalid(fn: () => unknown, part: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(hasCode(err, 'INVALID_ARGUMENT'), `want INVALID_ARGUMENT, got ${String(err)}`);
    assert.ok(err.message.includes(part), `message ${JSON.stringify(err.message)} should name ${part}`);
    return true;
  });
}

describe('gtid facade: parse, format, intervals', () => {
  const roundTrips: { name: string; flavor: Flavor; text: string; want: string }[] = [
    { name: 'mysql normalises', flavor: 'mysql', text: `${P.toUpperCase()}:1-3:4-5,\n${R}:T:1`, want: `${R}:t:1,${P}:1-5` },
    { name: 'mysql empty', flavor: 'mysql', text: '', want: '' },
    { name: 'mariadb normalises', flavor: 'mariadb', text: ' 1-2-5,\n0-1-27 ', want: '0-1-27,1-2-5' },
    { name: 'mariadb empty', flavor: 'mariadb', text: '', want: '' },
  ];
  for (const c of roundTrips) {
    it(`round trip: ${c.name}`, () => {
      const g = parseGtid(c.flavor, c.text);
      assert.equal(formatGtid(g), c.want);
      assert.equal(isEmptyGtid(g), c.want === '');
      assert.equal(formatGtid(fromIntervals(c.flavor, toIntervals(g))), c.want);
    });
  }

  it('mysql intervals carry uuid and tag, domain and serverId 0', () => {
    assert.deepEqual(toIntervals(parseGtid('mysql', `${P}:1-5:tag:9`)), [
      { uuid: P, tag: '', domain: 0, serverId: 0, start: 1n, end: 5n },
      { uuid: P, tag: 'tag', domain: 0, serverId: 0, start: 9n, end: 9n },
    ]);
  });

  it('mariadb intervals run from 1 to seq', () => {
    assert.deepEqual(toIntervals(parseGtid('mariadb', '0-1-27,0-2-28')), [
      { uuid: '', tag: '', domain: 0, serverId: 1, start: 1n, end: 27n },
      { uuid: '', tag: '', domain: 0, serverId: 2, start: 1n, end: 28n },
    ]);
  });

  const badIntervals: { name: string; flavor: Flavor; interval: GtidInterval; part: string }[] = [
    { name: 'mysql with a domain', flavor: 'mysql', interval: { uuid: P, tag: '', domain: 1, serverId: 0, start: 1n, end: 2n }, part: '1/0' },
    { name: 'mysql without uuid', flavor: 'mysql', interval: { uuid: '', tag: '', domain: 0, serverId: 0, start: 1n, end: 2n }, part: "''" },
    { name: 'mysql start 0', flavor: 'mysql', interval: { uuid: P, tag: '', domain: 0, serverId: 0, start: 0n, end: 2n }, part: "'0-2'" },
    { name: 'mariadb with a uuid', flavor: 'mariadb', interval: { uuid: P, tag: '', domain: 0, serverId: 1, start: 1n, end: 2n }, part: P },
    { name: 'mariadb start not 1', flavor: 'mariadb', interval: { uuid: '', tag: '', domain: 0, serverId: 1, start: 2n, end: 5n }, part: 'start 2' },
    { name: 'mariadb negative seq', flavor: 'mariadb', interval: { uuid: '', tag: '', domain: 0, serverId: 1, start: 1n, end: -1n }, part: "'0-1--1'" },
  ];
  for (const c of badIntervals) {
    it(`fromIntervals rejects ${c.name}`, () => assertInvalid(() => fromIntervals(c.flavor, [c.interval]), c.part));
  }
});

describe('gtid facade: validateGtidText', () => {
  const cases: { name: string; flavor: Flavor; text: string; part: string | null }[] = [
    { name: 'mysql valid', flavor: 'mysql', text: `${P}:1-5:Domain_1:1-3`, part: null },
    { name: 'mysql empty', flavor: 'mysql', text: '', part: null },
    { name: 'mysql bad interval', flavor: 'mysql', text: `${P}:5-3`, part: "'5-3'" },
    { name: 'mariadb text as mysql', flavor: 'mysql', text: '0-1-27', part: "'0-1-27'" },
    { name: 'mariadb valid', flavor: 'mariadb', text: '0-1-27,0-2-28', part: null },
    { name: 'mysql text as mariadb', flavor: 'mariadb', text: `${P}:1-5`, part: `'${P}:1-5'` },
    { name: 'unknown flavor', flavor: 'postgres' as Flavor, text: '', part: "'postgres'" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.part === null) validateGtidText(c.flavor, c.text);
      else assertInvalid(() => validateGtidText(c.flavor, c.text), c.part);
    });
  }
});

describe('gtid facade: gtidContains and gtidUnion', () => {
  const contains: { name: string; flavor: Flavor; a: string; b: string; want: boolean }[] = [
    { name: 'mysql superset', flavor: 'mysql', a: `${P}:1-10`, b: `${P}:1-7`, want: true },
    { name: 'mysql subset', flavor: 'mysql', a: `${P}:1-7`, b: `${P}:1-10`, want: false },
    { name: 'mysql tag matters', flavor: 'mysql', a: `${P}:1-10`, b: `${P}:t:1`, want: false },
    { name: 'mysql anything contains empty', flavor: 'mysql', a: `${P}:1`, b: '', want: true },
    { name: 'mariadb failover drill: n2 IO pos over n3', flavor: 'mariadb', a: '0-1-27', b: '0-1-22', want: true },
    { name: 'mariadb failover drill: n3 IO pos under n2', flavor: 'mariadb', a: '0-1-22', b: '0-1-27', want: false },
    { name: 'mariadb partial order, one way', flavor: 'mariadb', a: '0-1-10,1-2-5', b: '0-1-8,1-2-7', want: false },
    { name: 'mariadb partial order, other way', flavor: 'mariadb', a: '0-1-8,1-2-7', b: '0-1-10,1-2-5', want: false },
  ];
  for (const c of contains) {
    it(`gtidContains: ${c.name}`, () => assert.equal(gtidContains(parseGtid(c.flavor, c.a), parseGtid(c.flavor, c.b)), c.want));
  }

  it('gtidUnion per flavor', () => {
    assert.equal(formatGtid(gtidUnion(parseGtid('mysql', `${P}:1-3`), parseGtid('mysql', `${P}:4-6,${R}:1`))), `${R}:1,${P}:1-6`);
    assert.equal(formatGtid(gtidUnion(parseGtid('mariadb', '0-1-27'), parseGtid('mariadb', '0-1-20,0-2-28'))), '0-1-27,0-2-28');
  });

  it('mixing flavors throws', () => {
    const my = parseGtid('mysql', `${P}:1`);
    const maria = parseGtid('mariadb', '0-1-1');
    assertInvalid(() => gtidContains(my, maria), 'mysql GTID with a mariadb GTID');
    assertInvalid(() => gtidContains(maria, my), 'mariadb GTID with a mysql GTID');
    assertInvalid(() => gtidUnion(my, maria), 'gtidUnion');
  });
});

describe('gtid facade: errantSources', () => {
  const cases: { name: string; flavor: Flavor; replica: string; primary: string; primaryId: string; want: string[] }[] = [
    { name: 'mysql in sync', flavor: 'mysql', replica: `${P}:1-10`, primary: `${P}:1-10`, primaryId: P, want: [] },
    { name: 'mysql lagging', flavor: 'mysql', replica: `${P}:1-7`, primary: `${P}:1-10`, primaryId: P, want: [] },
    { name: 'mysql ahead with the primary own GTIDs', flavor: 'mysql', replica: `${P}:1-12`, primary: `${P}:1-10`, primaryId: P, want: [] },
    { name: 'mysql primary uuid in any case', flavor: 'mysql', replica: `${P}:1-12`, primary: `${P}:1-10`, primaryId: P.toUpperCase(), want: [] },
    { name: 'mysql local write on the replica', flavor: 'mysql', replica: `${P}:1-10,${R}:1-2`, primary: `${P}:1-10`, primaryId: P, want: [R] },
    { name: 'mysql tagged local write', flavor: 'mysql', replica: `${P}:1-10,${R}:fix:1`, primary: `${P}:1-10`, primaryId: P, want: [R] },
    {
      name: 'mysql returning old primary with an unacked commit',
      flavor: 'mysql',
      replica: `${R}:1-101`,
      primary: `${R}:1-100,${P}:1-5`,
      primaryId: P,
      want: [R],
    },
    { name: 'mariadb findings 5.5 example', flavor: 'mariadb', replica: '0-1-28', primary: '0-1-27,0-2-28', primaryId: '2', want: ['0-1'] },
    { name: 'mariadb clone lacks old entries', flavor: 'mariadb', replica: '0-2-28', primary: '0-1-27,0-2-28', primaryId: '2', want: [] },
    { name: 'mariadb ahead with the primary own server id', flavor: 'mariadb', replica: '0-1-27,0-2-31', primary: '0-1-27,0-2-28', primaryId: '2', want: [] },
    { name: 'mariadb two errant sources', flavor: 'mariadb', replica: '0-1-29,1-4-2', primary: '0-1-27,0-2-28', primaryId: '2', want: ['0-1', '1-4'] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(errantSources(c.flavor, c.replica, c.primary, c.primaryId), c.want));
  }

  const bad: { name: string; flavor: Flavor; replica: string; primary: string; primaryId: string; part: string }[] = [
    { name: 'mysql primary id not a uuid', flavor: 'mysql', replica: '', primary: '', primaryId: '2', part: "'2'" },
    { name: 'mariadb primary id not a number', flavor: 'mariadb', replica: '', primary: '', primaryId: P, part: `'${P}'` },
    { name: 'mariadb primary id too big', flavor: 'mariadb', replica: '', primary: '', primaryId: '4294967296', part: "'4294967296'" },
    { name: 'malformed replica text', flavor: 'mariadb', replica: '0-1', primary: '', primaryId: '1', part: "'0-1'" },
    { name: 'malformed primary text', flavor: 'mysql', replica: '', primary: `${P}:0`, primaryId: P, part: "'0'" },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => assertInvalid(() => errantSources(c.flavor, c.replica, c.primary, c.primaryId), c.part));
  }
});

describe('gtid facade: MariaDB-only helpers', () => {
  it('mariadbMerge merges binlog state and slave pos', () => {
    const merged = mariadbMerge(parseGtid('mariadb', '0-2-28'), parseGtid('mariadb', '0-1-27,1-3-4'));
    assert.equal(formatGtid(merged), '0-1-27,0-2-28,1-3-4');
  });

  it('mariadbDomainMaxText gives one GTID per domain', () => {
    assert.equal(mariadbDomainMaxText(parseGtid('mariadb', '0-1-27,0-2-28,1-3-4,1-1-2')), '0-2-28,1-3-4');
    assert.equal(mariadbDomainMaxText(parseGtid('mariadb', '')), '');
  });

  it('reject MySQL values', () => {
    const my = parseGtid('mysql', `${P}:1`);
    assertInvalid(() => mariadbMerge(my, parseGtid('mariadb', '0-1-1')), 'got a mysql one');
    assertInvalid(() => mariadbDomainMaxText(my), 'got a mysql one');
  });
});
