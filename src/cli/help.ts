/** Usage text of every `moco` command: `moco help`, `moco COMMAND --help`. */

export const COMMANDS: Record<string, { usage: string; about: string; more?: string }> = {
  up: {
    usage: 'up [-f manifest.yaml] [--name NAME] [--replicas N] [-d|--detach] [--timeout SECONDS]\n' +
      '       [--primary-port P] [--replica-port P] [--ports-from N]',
    about: 'create or resume a cluster (default: 3 instances named "local"); apply manifest changes',
    more: `Without -d it stays in the foreground until Ctrl-C (or SIGTERM, or the terminal closing), which stops the whole
cluster and says what it stopped. Interrupted or failed while starting, it stops what it started (data is kept).
Ports: the endpoints get free ports unless --primary-port / --replica-port name them; --ports-from N takes every
other port (instances, the coordinator's /metrics) from N upwards. A port that is taken is reported with the process
holding it, before anything starts. Ports of a running cluster change only after moco down.`,
  },
  down: { usage: 'down [NAME] [--purge]', about: 'stop every process of the cluster (--purge also deletes its data)',
    more: 'Stops the coordinator first (so nothing fails over), the instances, the endpoints, and any process left\nrunning whose command line names the cluster\'s directory.' },
  status: { usage: 'status [NAME] [-o json]', about: 'state and why, since when; primary, endpoints, each instance (delay, GTID, why not ready)',
    more: 'Without NAME and with several clusters in DIR, lists them (as moco get).' },
  get: { usage: 'get [NAME] [-o json]', about: "every cluster in DIR with kubectl get mysqlcluster's columns" },
  events: { usage: 'events [NAME]', about: "the cluster's events, oldest first (kubectl describe's Events)" },
  logs: {
    usage: 'logs [NAME] [mysqld|slow-log|agent|supervisor|coordinator|endpoints] [--index I] [-f] [--tail N]',
    about: "an instance's error log (default), slow query log or agent log, or a cluster process's log",
    more: '--index defaults to the current primary; -f follows the log until Ctrl-C.',
  },
  switchover: { usage: 'switchover NAME [--no-wait] [--timeout SECONDS]', about: 'move the primary to the lowest-index healthy replica' },
  mysql: {
    usage: 'mysql [-it] [-u USER] [--index I] NAME [-- ARGS...]',
    about: 'run the mysql client (default user moco-readonly, the primary)',
    more: 'USER: moco-readonly (readonly), moco-writable (writable), moco-admin (admin). -i and -t are accepted as\n' +
      'kubectl moco takes them; locally the client always shares this terminal.',
  },
  credential: { usage: 'credential [-u USER] [--format plain|mycnf] NAME', about: "print an account's password" },
  stop: { usage: 'stop clustering|reconciliation NAME', about: "pause the coordinator's decisions (no failover) / apply no manifest changes" },
  start: { usage: 'start clustering|reconciliation NAME', about: 'resume them (start clustering also leaves read-only mode)' },
  'read-only': {
    usage: 'read-only NAME',
    about: 'make every instance read-only for every user account (after moco stop clustering)',
    more: `The seed's "Set to Read Only" workflow: moco stop clustering NAME, then this. On MySQL, SET GLOBAL
super_read_only=1 as moco-admin does the same; on MariaDB only the agents may set read_only. Check with
moco mysql -it NAME -- -e "SELECT @@read_only" (MySQL: @@super_read_only); leave with moco start clustering NAME.`,
  },
  reinit: { usage: 'reinit NAME --index I [--force]', about: "wipe that instance's data; it rejoins by clone" },
  backup: { usage: 'backup NAME [--timeout SECONDS]', about: "take a backup now (BackupPolicy's bucket, else DIR/backups); Ctrl-C cancels it" },
};

export function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage.split('\n')[0]}\n      ${c.about}`);
  return `usage: moco <command> [--dir DIR] ...    (DIR: default $MOCO_DIR or ./.moco; NAME may be left out when DIR holds one cluster)

${lines.join('\n')}

moco COMMAND --help says more about a command. Exit codes: 0 success, 1 failure, 2 bad usage or input (nothing
was changed), 130 interrupted.
`;
}

export function commandHelp(name: string): string | undefined {
  const c = COMMANDS[name];
  if (!c) return undefined;
  return `usage: moco ${c.usage}    [--dir DIR]\n\n${c.about}.\n${c.more ? `\n${c.more}\n` : ''}`;
}
