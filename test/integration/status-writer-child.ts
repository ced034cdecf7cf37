/**
 * One status writer in a process of its own, for status-writers.test.ts: waits for the start file, then appends
 * 1..N to a list in one of its own fields of <dir>/<name>/status.json, each append a read-modify-write through
 * LocalStatusStore (updateStatus: re-read and retry on a version conflict). Prints "done <conflicts>" at the end.
 *   node --import tsx status-writer-child.ts DIR NAME coordinator|backup N START_FILE
 */
import { existsSync } from 'node:fs';
import { isStatusConflict, updateStatus, type StatusStore } from '../../src/coordinator/platform.ts';
import { LocalStatusStore } from '../../src/platform/local/platform.ts';
import { ClusterDir } from '../../src/platform/local/state.ts';

const [root, name, owner, count, startFile] = process.argv.slice(2);
if (!root || !name || (owner !== 'coordinator' && owner !== 'backup') || !count || !startFile) {
  process.stderr.write('usage: status-writer-child.ts DIR NAME coordinator|backup N START_FILE\n');
  process.exit(2);
}
const store = new LocalStatusStore(new ClusterDir(root, name));
let conflicts = 0;
// Counts the conflicts this writer ran into (the test wants to see that the writers really overlapped).
const counting: StatusStore = {
  readStatus: () => store.readStatus(),
  patchStatus: async (o, p, v) => {
    try {
      return await store.patchStatus(o, p, v);
    } catch (err) {
      if (isStatusConflict(err)) conflicts++;
      throw err;
    }
  },
};
while (!existsSync(startFile)) await new Promise((r) => setTimeout(r, 5));
for (let k = 1; k <= Number(count); k++) {
  if (owner === 'coordinator') {
    await updateStatus(counting, 'coordinator', (s) => ({ errantReplicaList: [...s.errantReplicaList, k], syncedReplicas: k }), { attempts: 1000 });
  } else {
    await updateStatus(counting, 'backup', (s) => ({ backup: { ...s.backup, warnings: [...(s.backup.warnings ?? []), String(k)] } }), { attempts: 1000 });
  }
}
process.stdout.write(`done ${conflicts}\n`);
