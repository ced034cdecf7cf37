/**
 * Status ownership across processes (the coordinator and a backup runner, as on Kubernetes where the backup is a
 * Job): two processes patch their own fields of one status.json at the same time, many times; every update of
 * both survives, and neither overwrote the other's fields.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { LocalStatusStore } from '../../src/platform/local/platform.ts';
import { ClusterDir } from '../../src/platform/local/state.ts';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'status-writer-child.ts');
const pids = new Set<number>();
after(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

function writer(root: string, owner: string, n: number, start: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', child, root, 'c', owner, String(n), start], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (c.pid) pids.add(c.pid);
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    c.on('error', reject);
    c.on('close', (code) => {
      if (c.pid) pids.delete(c.pid);
      resolve({ code, out, err });
    });
  });
}

describe('status writers in separate processes', () => {
  it('the coordinator and the backup side patch their own fields concurrently; no update is lost', async (t) => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-writers-'));
    try {
      const dir = new ClusterDir(root, 'c');
      await fs.mkdir(dir.root, { recursive: true });
      const n = 60;
      const start = path.join(root, 'start');
      const both = Promise.all([writer(root, 'coordinator', n, start), writer(root, 'backup', n, start)]);
      // Both processes are up and polling for the start file before either writes.
      await new Promise((r) => setTimeout(r, 3000));
      await fs.writeFile(start, '');
      const results = await both;
      for (const r of results) assert.equal(r.code, 0, r.err);
      const conflicts = results.reduce((sum, r) => sum + Number(/done (\d+)/.exec(r.out)?.[1] ?? 'NaN'), 0);
      const { status, version } = await new LocalStatusStore(dir).readStatus();
      const seq = Array.from({ length: n }, (_, k) => k + 1);
      assert.deepEqual(status.errantReplicaList, seq, 'every coordinator update survived');
      assert.equal(status.syncedReplicas, n);
      assert.deepEqual(status.backup.warnings, seq.map(String), 'every backup-side update survived');
      assert.equal(version, String(2 * n), 'one version per successful patch');
      // Not required for correctness, but the test only means something if the writers overlapped.
      t.diagnostic(`version conflicts retried: ${conflicts}`);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
