/** `moco logs`: an instance's or a cluster process's log, as `kubectl logs POD CONTAINER` shows them. */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { ClusterDir, listClusters } from '../platform/local/state.ts';
import { CliError, DIR_OPTION, parseCommand, stateDir, usageError, type Io } from './common.ts';
import { LocalClient } from '../platform/local/client.ts';

/** What `moco logs` can show, the way `kubectl logs POD CONTAINER` names them. */
const LOGS = ['mysqld', 'slow-log', 'agent', 'supervisor', 'coordinator', 'endpoints'] as const;
type LogName = (typeof LOGS)[number];

function logFile(cd: ClusterDir, name: LogName, index: number): string {
  const inst = cd.instance(index);
  switch (name) {
    case 'mysqld': return inst.errorLog;
    case 'slow-log': return path.join(inst.root, 'slow.log');
    case 'agent': return path.join(inst.root, 'agent.log');
    case 'supervisor': return path.join(inst.root, 'supervisor.log');
    default: return path.join(cd.logsDir, `${name}.log`);
  }
}

/**
 * `moco logs [NAME] [mysqld|slow-log|agent|supervisor|coordinator|endpoints] [--index I] [-f] [--tail N]`: an
 * instance's error log (default), slow query log or agent log, or a cluster process's log; --index defaults to the
 * primary.
 */
export async function logs(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    ...DIR_OPTION, index: { type: 'string' }, follow: { type: 'boolean', short: 'f' }, tail: { type: 'string' },
  }, 'logs');
  const dir = path.resolve(stateDir(values.dir));
  const isLog = (v: string | undefined): v is LogName => LOGS.includes(v as LogName);
  let [name, which] = positionals;
  if (positionals.length === 1 && isLog(name) && !(await listClusters(dir)).includes(name as string)) [name, which] = [undefined, name];
  if (positionals.length > 2) throw usageError(`logs: unexpected argument "${positionals[2]}"`);
  const log: LogName = which === undefined ? 'mysqld' : isLog(which) ? which : (() => {
    throw usageError(`logs: "${which}" is not a log; use one of ${LOGS.join(', ')}`);
  })();
  const cd = new LocalClient(dir).cluster(await new LocalClient(dir).resolve(name));
  const spec = await cd.readSpec();
  const index = values.index === undefined ? (await cd.readStatus())?.currentPrimaryIndex ?? 0 : Number(values.index);
  if (!Number.isInteger(index) || index < 0 || index >= spec.replicas) {
    throw usageError(`--index ${values.index}: the cluster has instances 0 to ${spec.replicas - 1}`);
  }
  const tail = values.tail === undefined ? undefined : Number(values.tail);
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw usageError(`--tail ${values.tail}: give a number of lines`);
  const file = logFile(cd, log, index);
  const size = await stat(file).then((s) => s.size, () => undefined);
  if (size === undefined && !values.follow) {
    throw new CliError(log === 'slow-log' ? `no slow queries logged yet (${file})` : `${file} does not exist (yet)`);
  }
  let pos = await printFrom(file, 0, tail, io);
  if (!values.follow) return 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      void stat(file).then(async (s) => {
        if (s.size < pos) pos = 0; // truncated or rotated: start over
        if (s.size > pos) pos = await printFrom(file, pos, undefined, io);
      }, () => undefined);
    }, 300);
    const stop = (): void => {
      clearInterval(timer);
      resolve();
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, stop);
  });
  return 0;
}

/** Prints `file` from byte `from` (only its last `tail` lines when given); returns the offset read up to. */
async function printFrom(file: string, from: number, tail: number | undefined, io: Io): Promise<number> {
  const h = await open(file, 'r').catch(() => undefined);
  if (!h) return from;
  try {
    const { size } = await h.stat();
    if (size <= from) return size;
    const buf = Buffer.alloc(size - from);
    await h.read(buf, 0, buf.length, from);
    let text = buf.toString('utf8');
    if (tail !== undefined) text = text.replace(/\n$/, '').split('\n').slice(-tail).join('\n') + (tail > 0 ? '\n' : '');
    if (text) io.write(text);
    return size;
  } finally {
    await h.close();
  }
}
