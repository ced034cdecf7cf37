/** `moco backup NAME`: an emergency backup, taken by the cluster's coordinator; waits and prints what it stored. */
import { promises as fs } from 'node:fs';
import { requestBackup, type BackupRunFile } from '../platform/local/backups.ts';
import { componentPid } from '../platform/local/processes.ts';
import { writeJsonAtomic } from '../platform/local/state.ts';
import { CliError, type Io } from './common.ts';
import { localTarget } from './local.ts';

const mb = (n: number | undefined): string => `${((n ?? 0) / 1e6).toFixed(1)} MB`;

export async function backup(argv: string[], io: Io): Promise<number> {
  const { cd, values } = await localTarget(argv, 'backup', { timeout: { type: 'string', default: '3600' } });
  const timeoutSec = Number(values.timeout);
  if (!(timeoutSec > 0)) throw new CliError(`--timeout ${String(values.timeout)}: give seconds, e.g. 3600`, 2);
  const spec = await cd.readSpec();
  if (spec.offline) throw new CliError(`cluster ${spec.name} is offline; start it (spec.offline: false) before backing it up`);
  if (!componentPid(cd, 'coordinator')) {
    throw new CliError(`the coordinator of ${spec.name} is not running, so nothing would take the backup; run moco up -d --name ${spec.name} first`);
  }
  const id = await requestBackup(cd);
  io.out(`backup of ${spec.namespace}/${spec.name} requested; Ctrl-C cancels it`);
  let cancelled = false;
  const onSigint = (): void => {
    if (cancelled) process.exit(130);
    cancelled = true;
    io.out('cancelling the backup...');
    void writeJsonAtomic(cd.backupCancelFile, id);
  };
  process.on('SIGINT', onSigint);
  const started = Date.now();
  let lastLine = '';
  try {
    for (;;) {
      const run = await readRun(cd.backupRunFile);
      if (run?.id === id) {
        const line = `${run.phase ?? run.state}${run.sourceIndex !== undefined ? ` from instance ${run.sourceIndex}` : ''}: ${mb(run.bytes)} stored`;
        if (run.state === 'running' && line !== lastLine) {
          io.out(line);
          lastLine = line;
        }
        if (run.state === 'succeeded' && run.status) {
          const s = run.status;
          io.out(`backup stored in ${run.location ?? 'the bucket'}: ${run.manifestKey}`);
          io.out(`  time ${s.time}, from instance ${s.sourceIndex} (${s.sourceUUID}), took ${s.elapsed}`);
          io.out(`  full backup ${mb(s.dumpSize)}, binlogs ${mb(s.binlogSize)}, GTID ${s.gtidSet || '(none)'}`);
          for (const w of s.warnings ?? []) io.out(`  warning: ${w}`);
          return 0;
        }
        if (run.state === 'failed' || run.state === 'cancelled') {
          throw new CliError(`backup ${run.state}: ${run.error ?? 'unknown error'}; nothing partial is listed as a backup`);
        }
      }
      if (Date.now() - started > timeoutSec * 1000) {
        throw new CliError(`the backup did not finish within ${timeoutSec} s; it goes on in the coordinator (see moco status ${spec.name})`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function readRun(file: string): Promise<BackupRunFile | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as BackupRunFile;
  } catch {
    return undefined;
  }
}
