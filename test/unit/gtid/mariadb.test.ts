import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { hasCode } from '../../../src/shared/errors.ts';
import * as m from '../../../src/gtid/mariadb.ts';

const norm = (text: string): string => m.format(m.parse(text));

function assertInvalid(fn: () => unknown, part: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(hasCode(err, 'INVALID_ARGUMENT'), `want INVALID_ARGUMENT, got ${String(err)}`);
    assert.ok(err.message.includes(`'${part}'`), `message ${JSON.stringify(err.message)} should name '${part}'`);
    return true;
  });
}

describe('mariadb GTID list parsing', () => {
  const cases: { name: string; text: string; want: string }[] = [
    { name: 'one GTID (a position)', text: '0-1-27', want: '0-1-27' },
    { name: 'a binlog state with two servers in one domain', text: '0-1-27,0-2-28', want: '0-1-27,0-2-28' },
    { name: 'several domains', text: '0-1-27,1-2-5,2-2-9', want: '0-1-27,1-2-5,2-2-9' },
    { name: 'whitespace and newlines around commas', text: ' 0-1-27 ,\n 1-2-5 ', want: '0-1-27,1-2-5' },
    { name: 'empty string is empty', text: '', want: '' },
    { name: 'only whitespace and commas is empty', text: ' , \n', want: '' },
    { name: 'sorted by domain then server id', text: '1-2-5,0-3-30,0-1-27', want: '0-1-27,0-3-30,1-2-5' },
    { name: 'numeric, not textual, order', text: '10-1-1,9-1-1,0-10-2,0-9-3', want: '0-9-3,0-10-2,9-1-1,10-1-1' },
    { name: 'repeated (domain, server) keeps the higher seq', text: '0-1-9,0-1-5', want: '0-1-9' },
    { name: 'seq 0', text: '0-1-0', want: '0-1-0' },
    { name: 'largest ids', text: '4294967295-4294967295-1', want: '4294967295-4294967295-1' },
    { name: 'largest seq (2^64-1)', text: '0-1-18446744073709551615', want: '0-1-18446744073709551615' },
    { name: '2^63-1 stays exact', text: '0-1-9223372036854775807', want: '0-1-9223372036854775807' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(norm(c.text), c.want));
  }

  it('entries carry bigint seq', () => {
    assert.deepEqual(m.parse('0-1-27'), [{ domain: 0, serverId: 1, seq: 27n }]);
  });
});

describe('mariadb GTID list malformed input', () => {
  const cases: { name: string; text: string; part: string }[] = [
    { name: 'two numbers', text: '0-1', part: '0-1' },
    { name: 'four numbers', text: '0-1-2-3', part: '0-1-2-3' },
    { name: 'letters', text: '0-1-27,a-b-c', part: 'a-b-c' },
    { name: 'seq with a letter', text: '0-1-2x', part: '0-1-2x' },
    { name: 'negative domain', text: '-1-1-1', part: '-1-1-1' },
    { name: 'spaces inside a GTID', text: '0 - 1 - 27', part: '0 - 1 - 27' },
    { name: 'MySQL text', text: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5', part: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5' },
    { name: 'domain above 2^32-1', text: '4294967296-1-1', part: '4294967296-1-1' },
    { name: 'server id above 2^32-1', text: '0-4294967296-1', part: '0-4294967296-1' },
    { name: 'seq above 2^64-1', text: '0-1-18446744073709551616', part: '0-1-18446744073709551616' },
  ];
  for (const c of cases) {
    it(c.name, () => assertInvalid(() => m.parse(c.text), c.part));
  }

  it('fromEntries rejects bad entries', () => {
    assertInvalid(() => m.fromEntries([{ domain: 1.5, serverId: 1, seq: 1n }]), '1.5-1-1');
    assertInvalid(() => m.fromEntries([{ domain: 0, serverId: -1, seq: 1n }]), '0--1-1');
    assertInvalid(() => m.fromEntries([{ domain: 0, serverId: 1, seq: -1n }]), '0-1--1');
  });
});

describe('mariadb merge, domainMax, toPosition', () => {
  it('merge keeps the higher seq per (domain, server)', () => {
    assert.equal(m.format(m.merge(m.parse('0-1-27,1-1-3'), m.parse('0-1-20,0-2-28'))), '0-1-27,0-2-28,1-1-3');
    assert.equal(m.format(m.merge(m.parse(''), m.parse('0-1-1'))), '0-1-1');
  });

  it('domainMax is the highest seq of any server per domain', () => {
    assert.deepEqual([...m.domainMax(m.parse('0-1-27,0-2-28,1-3-5,1-1-4'))], [
      [0, 28n],
      [1, 5n],
    ]);
    assert.equal(m.domainMax(m.parse('')).size, 0);
  });

  it('toPosition turns a binlog state into its binlog pos', () => {
    assert.equal(m.format(m.toPosition(m.parse('0-1-27,0-2-28,1-3-5,1-1-4'))), '0-2-28,1-3-5');
    assert.equal(m.format(m.toPosition(m.parse('0-1-27'))), '0-1-27');
  });

  it('fromEntries normalises', () => {
    const list = m.fromEntries([
      { domain: 1, serverId: 1, seq: 2n },
      { domain: 0, serverId: 2, seq: 5n },
      { domain: 1, serverId: 1, seq: 7n },
    ]);
    assert.equal(m.format(list), '0-2-5,1-1-7');
    assert.equal(m.isEmpty(list), false);
    assert.equal(m.isEmpty(m.fromEntries([])), true);
  });
});

describe('mariadb positionCovers', () => {
  // Findings 5.1: n2's applier was blocked while its IO thread kept receiving and acknowledging.
  const n2 = { ioPos: '0-1-27', slavePos: '0-1-12' };
  const n3 = { ioPos: '0-1-22', slavePos: '0-1-22' };
  const cases: { name: string; a: string; b: string; want: boolean }[] = [
    { name: 'failover drill: n2 Gtid_IO_Pos covers n3', a: n2.ioPos, b: n3.ioPos, want: true },
    { name: 'failover drill: n3 Gtid_IO_Pos does not cover n2', a: n3.ioPos, b: n2.ioPos, want: false },
    { name: 'failover drill: by gtid_slave_pos n3 would wrongly win', a: n3.slavePos, b: n2.slavePos, want: true },
    { name: 'equal positions', a: '0-1-27', b: '0-1-27', want: true },
    { name: 'strict mode: any server id, higher seq wins', a: '0-2-28', b: '0-1-27', want: true },
    { name: 'strict mode: server id of b irrelevant', a: '0-1-27', b: '0-2-28', want: false },
    { name: 'states compared by domain max', a: '0-1-27,0-2-28', b: '0-1-28', want: true },
    { name: 'multi-domain: a ahead in 0, behind in 1', a: '0-1-10,1-2-5', b: '0-1-8,1-2-7', want: false },
    { name: 'multi-domain: reverse is not covered either', a: '0-1-8,1-2-7', b: '0-1-10,1-2-5', want: false },
    { name: 'multi-domain: ahead in every domain', a: '0-1-10,1-2-7', b: '0-1-8,1-2-7', want: true },
    { name: 'domain missing from a', a: '0-1-5', b: '0-1-5,1-1-1', want: false },
    { name: 'extra domain in a', a: '0-1-5,1-1-1', b: '0-1-5', want: true },
    { name: 'anything covers empty', a: '0-1-1', b: '', want: true },
    { name: 'empty covers empty', a: '', b: '', want: true },
    { name: 'empty covers nothing else', a: '', b: '0-1-1', want: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(m.positionCovers(m.parse(c.a), m.parse(c.b)), c.want));
  }
});

describe('mariadb errantEntries', () => {
  const cases: { name: string; replica: string; primary: string; primaryId: number; want: string }[] = [
    { name: 'findings 5.5: returning old primary with its unacked commit', replica: '0-1-28', primary: '0-1-27,0-2-28', primaryId: 2, want: '0-1-28' },
    { name: 'in sync', replica: '0-1-27,0-2-28', primary: '0-1-27,0-2-28', primaryId: 2, want: '' },
    { name: 'lagging replica', replica: '0-1-20', primary: '0-1-27,0-2-28', primaryId: 2, want: '' },
    { name: 'clone: replica state lacks old entries', replica: '0-2-28', primary: '0-1-27,0-2-28', primaryId: 2, want: '' },
    { name: 'cloned primary lacks an old server the replica logged', replica: '0-1-27,0-2-30', primary: '0-2-30', primaryId: 2, want: '' },
    { name: 'replica ahead with the primary own transactions', replica: '0-1-27,0-2-31', primary: '0-1-27,0-2-28', primaryId: 2, want: '' },
    { name: 'unknown server above the primary domain max', replica: '0-1-27,0-2-28,0-3-29', primary: '0-1-27,0-2-28', primaryId: 2, want: '0-3-29' },
    { name: 'unknown server at the primary domain max (undetectable)', replica: '0-3-28', primary: '0-1-27,0-2-28', primaryId: 2, want: '' },
    { name: 'domain the primary never had', replica: '0-2-28,5-3-1', primary: '0-2-28', primaryId: 2, want: '5-3-1' },
    { name: 'several errant entries', replica: '0-1-29,1-4-2', primary: '0-1-27,0-2-28,1-2-1', primaryId: 2, want: '0-1-29,1-4-2' },
    { name: 'empty replica', replica: '', primary: '0-1-27', primaryId: 1, want: '' },
    { name: 'empty primary, replica has history', replica: '0-1-3', primary: '', primaryId: 2, want: '0-1-3' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = m.errantEntries(m.parse(c.replica), m.parse(c.primary), c.primaryId);
      assert.equal(m.format(got), c.want);
    });
  }
});
