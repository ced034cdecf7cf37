/**
 * The Node versions package.json declares are true: every installed package (dev tools included, since
 * `npm test` needs them) accepts all of them, the Node running the tests is one of them, and `npm ci` prints
 * no EBADENGINE warning. A dependency update that raises a package's engines above ours fails here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const semver = createRequire(import.meta.url)('semver') as {
  subset(sub: string, dom: string): boolean;
  satisfies(version: string, range: string): boolean;
  validRange(range: string): string | null;
};

interface LockPackage { version?: string; engines?: { node?: string } | string[] }
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
const declared = pkg.engines.node;

describe('engines.node', () => {
  it('is a valid range that includes the Node running the tests', () => {
    assert.ok(semver.validRange(declared), `package.json engines.node "${declared}" is not a semver range`);
    assert.ok(semver.satisfies(process.version, declared), `${process.version} is outside engines.node "${declared}"`);
  });

  it('every package in package-lock.json accepts every Node version package.json declares', () => {
    const excluding: string[] = [];
    for (const [where, p] of Object.entries(lock.packages)) {
      if (where === '' || !p.engines || Array.isArray(p.engines) || !p.engines.node) continue;
      if (!semver.subset(declared, p.engines.node)) {
        excluding.push(`${where.replace(/^.*node_modules\//, '')}@${p.version ?? '?'} requires node ${p.engines.node}`);
      }
    }
    assert.deepEqual(excluding, [], `these packages exclude part of engines.node "${declared}": override them to a ` +
      'version that supports it (package.json "overrides") or narrow engines.node');
  });

  it('npm ci prints no EBADENGINE warning', () => {
    // --dry-run changes nothing; --offline keeps the unit tests off the network (the lock file has it all).
    const r = spawnSync('npm', ['ci', '--dry-run', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: root, encoding: 'utf8', timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(`${r.stdout}\n${r.stderr}`, /EBADENGINE/);
  });
});
