/**
 * kubectl moco: the seed's kubectl plugin (mysql, credential, switchover, stop/start clustering and
 * reconciliation) plus status, get, events and read-only, sharing every command's code with the local `moco`
 * (src/cli/commands.ts). Entry point only: the global kubectl flags, dispatch, exit codes.
 */
import { CliError, stdio, usageError } from '../src/cli/common.ts';
import { credential, events, get, mysql, readOnly, status, stopStart, switchover, type CliPlatform } from '../src/cli/commands.ts';
import { messageOf } from '../src/shared/errors.ts';
import { KubeClientError, KubernetesClient } from '../src/platform/kubernetes/client.ts';
import { connect } from '../src/platform/kubernetes/kube.ts';

const USAGE = `usage: kubectl moco [-n NAMESPACE] [--kubeconfig FILE] [--context NAME] <command> ...

  mysql [-it] [-u USER] [--index I] NAME [-- ARGS...]   the mysql client in a Pod (default moco-readonly, the primary)
  credential [-u USER] [--format plain|mycnf] NAME      print an account's password
  switchover NAME                                       move the primary to another instance (waits)
  stop|start clustering|reconciliation NAME
  read-only NAME                                        every instance read-only for users (after stop clustering)
  status [NAME] [-o json]   get [NAME]   events NAME

Exit codes: 0 success, 1 failure, 2 bad usage or input (nothing was changed).
`;

/** Splits the global kubectl flags (anywhere before the command) from the command's own arguments. */
function globalFlags(argv: string[]): { namespace: string | undefined; kubeconfig: string | undefined; context: string | undefined; rest: string[] } {
  const out = { namespace: undefined as string | undefined, kubeconfig: undefined as string | undefined, context: undefined as string | undefined, rest: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') { out.rest.push(...argv.slice(i)); break; }
    const m = /^(-n|--namespace|--kubeconfig|--context)(?:=(.*))?$/.exec(a);
    if (m) {
      const v = m[2] ?? argv[++i];
      if (v === undefined) throw usageError(`${a} needs a value`);
      if (m[1] === '--kubeconfig') out.kubeconfig = v;
      else if (m[1] === '--context') out.context = v;
      else out.namespace = v;
    } else out.rest.push(a);
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const g = globalFlags(argv);
  const [command, ...rest] = g.rest;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    stdio.out(USAGE);
    return 0;
  }
  const kube = connect({ ...(g.kubeconfig ? { kubeconfig: g.kubeconfig } : {}), ...(g.context ? { context: g.context } : {}) });
  const namespace = g.namespace ?? 'default';
  const kubectl = {
    command: process.env.KUBECTL ?? 'kubectl',
    globalArgs: [...(g.kubeconfig ? ['--kubeconfig', g.kubeconfig] : []), ...(g.context ? ['--context', g.context] : [])],
  };
  const platform: CliPlatform = { self: 'kubectl moco', options: {}, client: () => new KubernetesClient(kube, namespace, kubectl) };
  switch (command) {
    case 'status': return status(platform, rest, stdio);
    case 'get': return get(platform, rest, stdio);
    case 'events': return events(platform, rest, stdio);
    case 'switchover': return switchover(platform, rest, stdio);
    case 'mysql': return mysql(platform, rest);
    case 'credential': return credential(platform, rest, stdio);
    case 'stop': case 'start': return stopStart(platform, command, rest, stdio);
    case 'read-only': return readOnly(platform, rest, stdio);
    default: throw new CliError(`unknown command "${command}"\n${USAGE}`, 2);
  }
}

for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  stdio.err(`kubectl moco: ${messageOf(err)}`);
  process.exit(err instanceof CliError ? err.exitCode : err instanceof KubeClientError ? (err.usage ? 2 : 1) : 1);
});
