/** The runners' pure choices: the backup source (the seed system's table) and the backup for a restore point. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBackupSource, chooseRestoreBackup, type BackupEntry, type SourceCandidate } from '../../../src/backup/choose.ts';
import { binlogDateTime, formatKeyTime, groupBackups, requireRestorePoint, parseKeyTime, type BackupManifest } from '../../../src/backup/layout.ts';
import { MocoError } from '../../../src/shared/errors.ts';

const ids = ['id-0', 'id-1', 'id-2'];
const all = (over: Partial<Record<number, Partial<SourceCandidate>>> = {}): SourceCandidate[] =>
  [0, 1, 2].map((index) => ({ index, ready: true, instanceId: ids[index], ...over[index] }));
const prevSet = { 0: 'id-0', 1: 'id-1', 2: 'id-2' };

describe('chooseBackupSource', () => {
  const cases: Array<{ name: string; c: SourceCandidate[]; primary: number; prev?: Parameters<typeof chooseBackupSource>[2]; index: number; binlog: boolean; warn?: RegExp }> = [
    { name: 'first backup: the lowest ready replica, no binlogs', c: all(), primary: 0, index: 1, binlog: false },
    { name: 'first backup with replica 1 not ready: replica 2', c: all({ 1: { ready: false } }), primary: 0, index: 2, binlog: false },
    { name: 'first backup with no ready replica: the primary', c: all({ 1: { ready: false }, 2: { ready: false } }), primary: 0, index: 0, binlog: false },
    { name: 'the previous source while unchanged and not the primary', c: all(), primary: 0, prev: { sourceIndex: 2, sourceUUID: 'id-2', uuidSet: prevSet }, index: 2, binlog: true },
    { name: 'the previous source became the primary: the lowest unchanged replica', c: all(), primary: 2, prev: { sourceIndex: 2, sourceUUID: 'id-2', uuidSet: prevSet }, index: 0, binlog: true },
    { name: 'the previous source was re-created: another unchanged replica', c: all({ 1: { instanceId: 'new' } }), primary: 0, prev: { sourceIndex: 1, sourceUUID: 'id-1', uuidSet: prevSet }, index: 2, binlog: true },
    { name: 'only the primary is unchanged: the primary', c: all({ 1: { instanceId: 'n1' }, 2: { instanceId: 'n2' } }), primary: 0, prev: { sourceIndex: 1, sourceUUID: 'id-1', uuidSet: prevSet }, index: 0, binlog: true },
    {
      name: 'every instance re-created: fallback, no binlogs, a warning',
      c: all({ 0: { instanceId: 'n0' }, 1: { instanceId: 'n1' }, 2: { instanceId: 'n2' } }), primary: 0,
      prev: { sourceIndex: 1, sourceUUID: 'id-1', uuidSet: prevSet }, index: 1, binlog: false, warn: /binlog files may be missing/,
    },
    { name: 'an old status without uuidSet compares the source only', c: all(), primary: 0, prev: { sourceIndex: 2, sourceUUID: 'id-2' }, index: 2, binlog: true },
    { name: 'an unready instance does not count as unchanged', c: all({ 2: { ready: false } }), primary: 0, prev: { sourceIndex: 2, sourceUUID: 'id-2', uuidSet: prevSet }, index: 1, binlog: true },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const r = chooseBackupSource(t.c, t.primary, t.prev);
      assert.equal(r.index, t.index);
      assert.equal(r.binlog, t.binlog);
      if (t.warn) assert.match(r.warnings.join('\n'), t.warn);
      else assert.deepEqual(r.warnings, []);
    });
  }
  it('records the identities of ready instances', () => {
    assert.deepEqual(chooseBackupSource(all({ 2: { ready: false } }), 0, undefined).uuidSet, { 0: 'id-0', 1: 'id-1' });
  });
  it('fails when no instance is ready', () => {
    assert.throws(() => chooseBackupSource(all({ 0: { ready: false }, 1: { ready: false }, 2: { ready: false } }), 0, undefined),
      (e: unknown) => e instanceof MocoError && e.code === 'FAILED_PRECONDITION' && /no ready instance/.test(e.message));
  });
});

function entry(time: string, startedAt: string, finishedAt: string, binlogUntil?: string): BackupEntry {
  const manifest = { time, startedAt, finishedAt } as BackupManifest;
  return binlogUntil ? { manifest, binlog: { coversUntil: binlogUntil } as BackupEntry['binlog'] & object } : { manifest };
}
const b1 = entry('20260101-100000', '2026-01-01T10:00:00Z', '2026-01-01T10:00:05Z', '2026-01-01T11:00:02Z');
const b2 = entry('20260101-110000', '2026-01-01T11:00:00Z', '2026-01-01T11:00:04Z');

describe('chooseRestoreBackup', () => {
  it('a point between two backups: the older one with its binlogs', () => {
    assert.deepEqual(chooseRestoreBackup([b2, b1], new Date('2026-01-01T10:30:00Z'), 'x'), { time: b1.manifest.time, applyBinlog: true, warnings: [] });
  });
  it('a point while the newer backup was running: the older one (the newer copy may hold later transactions)', () => {
    assert.equal(chooseRestoreBackup([b1, b2], new Date('2026-01-01T11:00:02Z'), 'x').time, b1.manifest.time);
  });
  it('a point exactly at a backup\'s end uses that backup', () => {
    assert.equal(chooseRestoreBackup([b1, b2], new Date('2026-01-01T11:00:04Z'), 'x').time, b2.manifest.time);
  });
  it('after the newest backup: its copy only, with a warning that later binlogs are not archived yet', () => {
    const r = chooseRestoreBackup([b1, b2], new Date('2026-01-01T12:00:00Z'), 'x');
    assert.equal(r.time, b2.manifest.time);
    assert.equal(r.applyBinlog, false);
    assert.match(r.warnings.join(), /not archived yet/);
  });
  it('past the end of the archived binlogs: a warning', () => {
    const r = chooseRestoreBackup([b1], new Date('2026-01-01T11:30:00Z'), 'x');
    assert.equal(r.applyBinlog, true);
    assert.match(r.warnings.join(), /end at 2026-01-01T11:00:02Z/);
  });
  it('before the earliest backup ended: refused, naming it', () => {
    assert.throws(() => chooseRestoreBackup([b1, b2], new Date('2026-01-01T10:00:03Z'), 's3://b'),
      (e: unknown) => e instanceof MocoError && e.code === 'FAILED_PRECONDITION' && /before the earliest complete backup in s3:\/\/b/.test(e.message));
  });
  it('no backup at all: refused', () => {
    assert.throws(() => chooseRestoreBackup([], new Date(), 's3://b'), /no complete backup found in s3:\/\/b/);
  });
});

describe('layout', () => {
  it('key times are UTC YYYYMMDD-hhmmss and round-trip', () => {
    const d = new Date('2026-03-04T05:06:07.890Z');
    assert.equal(formatKeyTime(d), '20260304-050607');
    assert.equal(parseKeyTime('20260304-050607')?.toISOString(), '2026-03-04T05:06:07.000Z');
    for (const bad of ['20260230-000000', '2026030-050607', 'x', '20260304-056007']) assert.equal(parseKeyTime(bad), undefined, bad);
  });
  it('groups a listing into backup directories, ignoring foreign and nested keys', () => {
    const p = 'moco/ns/c/';
    const got = groupBackups(p, [
      `${p}20260101-110000/base.xbstream.zst`, `${p}20260101-100000/manifest.json`, `${p}20260101-100000/binlog.json`,
      `${p}20260101-110000/manifest.json`, `${p}notatime/manifest.json`, `${p}20260101-120000/base.xbstream.zst`,
      `${p}20260101-100000/x/manifest.json`, 'moco/ns/c-other/20260101-100000/manifest.json',
    ]);
    assert.deepEqual(got.map((b) => [b.time, b.hasManifest, b.hasBinlog]), [
      ['20260101-100000', true, true], ['20260101-110000', true, false], ['20260101-120000', false, false],
    ]);
  });
  it('restore points are UTC whole seconds; the binlog tools get "YYYY-MM-DD hh:mm:ss"', () => {
    assert.equal(requireRestorePoint('2026-01-01T12:00:00.999+09:00').toISOString(), '2026-01-01T03:00:00.000Z');
    assert.equal(binlogDateTime(new Date('2026-01-01T03:00:00Z')), '2026-01-01 03:00:00');
    assert.throws(() => requireRestorePoint('yesterday'), /not an RFC 3339 time/);
  });
});
