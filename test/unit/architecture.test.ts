/**
 * The dependency rule (docs/architecture.md): modules import only downwards, and modules of one layer do not import
 * each other. Every static and dynamic import of src/ and cmd/ is checked, so a change that points an import the
 * wrong way fails here, naming the file and the import.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Layer of each module (a top-level folder of src/, or cmd/): lower numbers are lower layers. */
const LAYERS: Record<string, number> = {
  api: 0, gtid: 0, generated: 0,
  shared: 1,
  backup: 2, // backup formats and object storage (the agent writes and reads them) and the backup runner
  agent: 3, coordinator: 3,
  'platform/local': 4, 'platform/kubernetes': 4, platform: 4,
  cli: 5,
  cmd: 6,
};

function moduleOf(file: string): string {
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] === 'cmd') return 'cmd';
  if (rel[1] === 'platform' && rel.length > 3) return `platform/${rel[2]}`;
  return rel[1] as string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file (static `from '...'`, side-effect `import '...'` and dynamic `import('...')`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)) {
    out.push(path.resolve(path.dirname(file), m[1] as string));
  }
  return out;
}

/** Why importing `to` from `from` breaks the rule, or undefined when it is allowed. */
function violation(from: string, to: string): string | undefined {
  if (from === to) return undefined;
  const [a, b] = [LAYERS[from], LAYERS[to]];
  if (a === undefined) return `module ${from} has no layer; add it to LAYERS and docs/architecture.md`;
  if (b === undefined) return `module ${to} has no layer; add it to LAYERS and docs/architecture.md`;
  if (from === 'platform/local' || from === 'platform/kubernetes') {
    if (to === 'platform') return undefined; // the platforms' common interfaces
  }
  if (b > a) return `${from} (layer ${a}) imports ${to} (layer ${b}): imports point downwards only`;
  if (b === a) return `${from} imports ${to}, a module of its own layer: move what both need one layer down`;
  if (from === 'platform/kubernetes' && to === 'agent') return 'the Kubernetes controller must not load sidecar code';
  return undefined;
}

describe('the dependency rule', () => {
  const files = [...sources(path.join(root, 'src')), ...sources(path.join(root, 'cmd'))];

  it('holds for every import of src/ and cmd/', () => {
    const problems: string[] = [];
    for (const file of files) {
      const from = moduleOf(file);
      for (const target of importsOf(file)) {
        if (!target.startsWith(path.join(root, 'src')) && !target.startsWith(path.join(root, 'cmd'))) continue;
        const why = violation(from, moduleOf(target));
        if (why) problems.push(`${path.relative(root, file)} -> ${path.relative(root, target)}: ${why}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('would catch an import that points up or sideways', () => {
    assert.match(violation('coordinator', 'platform/local') ?? '', /imports point downwards only/);
    assert.match(violation('agent', 'coordinator') ?? '', /of its own layer/);
    assert.match(violation('api', 'shared') ?? '', /imports point downwards only/);
    assert.match(violation('platform/local', 'platform/kubernetes') ?? '', /of its own layer/);
    assert.match(violation('platform/kubernetes', 'agent') ?? '', /sidecar code/);
    assert.equal(violation('cli', 'platform/local'), undefined);
    assert.equal(violation('agent', 'backup'), undefined);
    assert.ok(files.length > 100, `found ${files.length} files`);
  });
});
