/**
 * moco: run MySQL clusters on this machine from MySQLCluster manifests. Entry point only: dispatch, errors,
 * exit codes (2 for bad usage or input, 1 for failures). The hidden `_instance`, `_endpoints` and
 * `_coordinator` commands are the cluster's own processes, started by `moco up`.
 */
import path from 'node:path';
import { CliError, stdio } from '../src/cli/common.ts';
import { credential, mysqlClient, reinit, status, stopStart, switchover } from '../src/cli/ops.ts';
import { backup } from '../src/cli/backup.ts';
import { down, up } from '../src/cli/up.ts';
import { messageOf } from '../src/shared/errors.ts';
import { createLogger } from '../src/shared/logger.ts';
import { startCoordinator } from '../src/platform/local/coordinator.ts';
import { runEndpoints } from '../src/platform/local/endpoints.ts';
import { runInstance } from '../src/platform/local/instance-process.ts';
import { ClusterDir, writePid } from '../src/platform/local/state.ts';

const USAGE = `usage: moco <command> [--dir DIR] ...    (DIR: default $MOCO_DIR or ./.moco; NAME may be left out when DIR holds one cluster)

  up [-f manifest.yaml] [--name NAME] [--replicas N] [-d|--detach] [--timeout SECONDS]
                       create or resume a cluster (default: 3 instances named "local"); apply manifest changes
  down [NAME] [--purge]                stop every process of the cluster (--purge also deletes its data)
  status [NAME] [-o json]              state, primary, endpoints, instances
  switchover NAME [--no-wait]          move the primary to the lowest-index healthy replica
  mysql [-u USER] [--index I] NAME [-- ARGS...]   run the mysql client (default user moco-readonly, the primary)
  credential [-u USER] [--format plain|mycnf] NAME
  stop|start clustering|reconciliation NAME
  reinit NAME --index I                wipe that instance's data; it rejoins by clone
  backup NAME [--timeout SECONDS]      take a backup now (BackupPolicy's bucket, else DIR/backups); waits,
                                       prints what it stored; Ctrl-C cancels it
`;

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
  } else if (command === '_endpoints') {
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
  switch (command) {
    case 'up': return up(rest, stdio);
    case 'down': return down(rest, stdio);
    case 'status': return status(rest, stdio);
    case 'switchover': return switchover(rest, stdio);
    case 'mysql': return mysqlClient(rest);
    case 'credential': return credential(rest, stdio);
    case 'stop': case 'start': return stopStart(command, rest, stdio);
    case 'reinit': return reinit(rest, stdio);
    case 'backup': return backup(rest, stdio);
    case '_instance': case '_endpoints': case '_coordinator':
      await internal(command, rest);
      return -1;
    case undefined: case 'help': case '-h': case '--help':
      stdio.out(USAGE);
      return 0;
    default:
      throw new CliError(`unknown command "${command}"\n${USAGE}`, 2);
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exit(code);
}, (err: unknown) => {
  stdio.err(`moco: ${messageOf(err)}`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
});
