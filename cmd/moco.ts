/**
 * moco: run MySQL clusters on this machine from MySQLCluster manifests. Entry point only: dispatch, errors,
 * exit codes (2 for bad usage or input, 1 for failures). The hidden `_instance`, `_endpoints` and
 * `_coordinator` commands are the cluster's own processes, started by `moco up`.
 */
import path from 'node:path';
import { CliError, stdio } from '../src/cli/common.ts';
import { reinit } from '../src/cli/ops.ts';
import { logs } from '../src/cli/inspect.ts';
import { credential, events, get, mysql, readOnly, status, stopStart, switchover } from '../src/cli/commands.ts';
import { localPlatform as local } from '../src/cli/local.ts';
import { ClientError } from '../src/platform/local/client.ts';
import { commandHelp, COMMANDS, usage } from '../src/cli/help.ts';
import { backup } from '../src/cli/backup.ts';
import { down, up } from '../src/cli/up.ts';
import { messageOf } from '../src/shared/errors.ts';
import { createLogger } from '../src/shared/logger.ts';
import { startCoordinator } from '../src/platform/local/coordinator.ts';
import { runEndpoints } from '../src/platform/local/endpoints.ts';
import { EXIT_LOCKED, runInstance } from '../src/platform/local/instance-process.ts';
import { acquireLock, LockBusyError } from '../src/platform/local/lock.ts';
import { ClusterDir, writePid } from '../src/platform/local/state.ts';

function clusterDirOf(root: string | undefined): ClusterDir {
  if (!root) throw new CliError('internal command needs the cluster directory', 2);
  const abs = path.resolve(root);
  return new ClusterDir(path.dirname(abs), path.basename(abs));
}

async function internal(command: string, args: string[]): Promise<void> {
  const dir = clusterDirOf(args[0]);
  const log = createLogger({ name: `moco${command}`, level: process.env.MOCO_LOG_LEVEL ?? 'info' });
  if (command === '_instance') {
    await runInstance(dir, Number(args[1]), log);
    return;
  }
  // One coordinator and one endpoints process per cluster: each holds its lock for its lifetime.
  const component = command === '_endpoints' ? 'endpoints' : 'coordinator';
  try {
    acquireLock(dir.lockFile(component));
  } catch (err) {
    if (!(err instanceof LockBusyError)) throw err;
    log.error({ holder: err.holder }, `another ${component} process runs this cluster; not starting`);
    process.exit(EXIT_LOCKED);
  }
  if (component === 'endpoints') {
    const cluster = await dir.readCluster();
    await runEndpoints({
      rolesFile: dir.rolesFile, primaryPort: cluster.primaryPort, replicaPort: cluster.replicaPort, portsFile: dir.endpointsFile,
      readinessIntervalMs: Number(process.env.MOCO_READINESS_INTERVAL_MS ?? 100), log,
    });
    await writePid(dir.pidFile('endpoints'));
  } else {
    const handle = await startCoordinator(dir, log);
    const stop = (): void => void handle.stop().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && COMMANDS[command] && (rest.includes('--help') || rest.includes('-h'))) {
    // `moco mysql NAME -- --help` is the client's own help.
    const sep = rest.indexOf('--');
    const mine = sep < 0 ? rest : rest.slice(0, sep);
    if (mine.includes('--help') || mine.includes('-h')) {
      stdio.out(commandHelp(command) ?? usage());
      return 0;
    }
  }
  switch (command) {
    case 'up': return up(rest, stdio);
    case 'down': return down(rest, stdio);
    case 'status': return status(local, rest, stdio);
    case 'get': return get(local, rest, stdio);
    case 'events': return events(local, rest, stdio);
    case 'logs': return logs(rest, stdio);
    case 'switchover': return switchover(local, rest, stdio);
    case 'mysql': return mysql(local, rest);
    case 'credential': return credential(local, rest, stdio);
    case 'stop': case 'start': return stopStart(local, command, rest, stdio);
    case 'read-only': return readOnly(local, rest, stdio);
    case 'reinit': return reinit(rest, stdio);
    case 'backup': return backup(rest, stdio);
    case '_instance': case '_endpoints': case '_coordinator':
      await internal(command, rest);
      return -1;
    case undefined: case 'help': case '-h': case '--help':
      stdio.out(rest[0] && command === 'help' ? commandHelp(rest[0]) ?? usage() : usage());
      return 0;
    default:
      throw new CliError(`unknown command "${command}"\n${usage()}`, 2);
  }
}

// Output to a closed pipe or terminal (`moco up | tee` after Ctrl-C, a closed terminal) must not stop a command
// halfway through stopping a cluster: such writes are dropped.
for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exit(code);
}, (err: unknown) => {
  stdio.err(`moco: ${messageOf(err)}`);
  process.exit(err instanceof CliError ? err.exitCode : err instanceof ClientError ? (err.usage ? 2 : 1) : 1);
});
