/**
 * moco-controller: the Kubernetes operator (src/platform/kubernetes/controller.ts). Entry point only: flags,
 * the API connection, signals. Runs in the cluster with its ServiceAccount (config/manager), or outside it with
 * --kubeconfig (development and tests).
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/shared/duration.ts';
import { messageOf } from '../src/shared/errors.ts';
import { createLogger } from '../src/shared/logger.ts';
import { Controller } from '../src/platform/kubernetes/controller.ts';
import { connect, resourcePath } from '../src/platform/kubernetes/kube.ts';

const USAGE = `usage: moco-controller [--kubeconfig FILE] [--namespace NS] [--agent-image IMAGE]
  [--webhook-port 9443] [--metrics-port 8080] [--health-port 8081] [--log-level info] [--resync-period 10m]
  --resync-period: how often every cluster is reconciled and the certificates checked even when nothing changed`;

async function main(): Promise<void> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        kubeconfig: { type: 'string' }, namespace: { type: 'string' }, 'agent-image': { type: 'string' },
        'webhook-port': { type: 'string', default: '9443' }, 'metrics-port': { type: 'string', default: '8080' },
        'health-port': { type: 'string', default: '8081' }, 'log-level': { type: 'string', default: 'info' },
        identity: { type: 'string' }, 'resync-period': { type: 'string', default: '10m' },
      },
      strict: true,
    }) as { values: Record<string, string | undefined> });
  } catch (err) {
    process.stderr.write(`moco-controller: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const port = (flag: string): number => {
    const n = Number(values[flag]);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      process.stderr.write(`moco-controller: --${flag} ${values[flag]}: give a TCP port\n`);
      process.exit(2);
    }
    return n;
  };
  let resyncMs: number;
  try {
    resyncMs = parseDuration(values['resync-period'] as string, '--resync-period');
  } catch (err) {
    process.stderr.write(`moco-controller: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (resyncMs < 1000) {
    process.stderr.write(`moco-controller: --resync-period ${values['resync-period']}: give at least 1s\n`);
    process.exit(2);
  }
  const log = createLogger({ name: 'moco-controller', level: values['log-level'] ?? 'info' });
  const inCluster = !values.kubeconfig && !!process.env.KUBERNETES_SERVICE_HOST;
  const kube = connect({ ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}), inCluster });
  const namespace = values.namespace ?? process.env.POD_NAMESPACE ?? 'moco-system';
  const identity = values.identity ?? process.env.POD_NAME ?? `moco-controller-${process.pid}`;
  let agentImage = values['agent-image'];
  if (!agentImage && process.env.POD_NAME) {
    // The agent runs from the controller's own image unless told otherwise.
    const pod = await kube.get<{ spec: { containers: Array<{ image: string }> } }>(resourcePath('v1', 'Pod', namespace, process.env.POD_NAME));
    agentImage = pod.spec.containers[0]?.image;
  }
  if (!agentImage) {
    process.stderr.write('moco-controller: give --agent-image IMAGE (it cannot be read from the own Pod outside a cluster)\n');
    process.exit(2);
  }
  const controller = new Controller({
    kube, log, namespace, identity, agentImage,
    webhookPort: port('webhook-port'), metricsPort: port('metrics-port'), healthPort: port('health-port'), resyncMs,
  });
  await controller.start();
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info('stopping (no mysqld is touched)');
    void controller.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`moco-controller: ${messageOf(err)}\n`);
  process.exit(1);
});
