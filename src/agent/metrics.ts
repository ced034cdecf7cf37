/** The agent's Prometheus metrics (`moco_instance_*`), with the seed's const labels `name` and `index`. */
import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';

export interface AgentMetrics {
  registry: Registry;
  cloneCount: Counter;
  cloneFailureCount: Counter;
  cloneDuration: Summary;
  cloneInProgress: Gauge;
  cloneBytes: Gauge;
  replicationDelay: Gauge;
  statusChecks: Counter<'result'>;
  rpcDuration: Histogram<'method' | 'code'>;
  accountChecks: Counter<'result'>;
  accountRepairs: Counter;
  coordinatorTerm: Gauge;
}

export function createAgentMetrics(clusterName: string, index: number, options: { processMetrics?: boolean } = {}): AgentMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ name: clusterName, index: String(index) });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const reg = { registers: [registry] };
  return {
    registry,
    cloneCount: new Counter({ name: 'moco_instance_clone_count', help: 'Clones started on this instance', ...reg }),
    cloneFailureCount: new Counter({ name: 'moco_instance_clone_failure_count', help: 'Clones that failed', ...reg }),
    cloneDuration: new Summary({
      name: 'moco_instance_clone_duration_seconds', help: 'Duration of successful clones',
      percentiles: [0.5, 0.9, 0.99], ...reg,
    }),
    cloneInProgress: new Gauge({ name: 'moco_instance_clone_in_progress', help: '1 while a clone runs', ...reg }),
    cloneBytes: new Gauge({ name: 'moco_instance_clone_bytes_transferred', help: 'Bytes received by the running or last clone', ...reg }),
    replicationDelay: new Gauge({
      name: 'moco_instance_replication_delay_seconds', help: 'How far the applier is behind its source (replicas only)', ...reg,
    }),
    statusChecks: new Counter({
      name: 'moco_instance_status_checks_total', help: 'Status reads from mysqld by result', labelNames: ['result'], ...reg,
    }),
    rpcDuration: new Histogram({
      name: 'moco_instance_rpc_duration_seconds', help: 'gRPC call latency by method and status code',
      labelNames: ['method', 'code'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 120], ...reg,
    }),
    accountChecks: new Counter({
      name: 'moco_instance_account_checks_total',
      help: 'Re-asserts of the moco-* accounts by result (unchanged, repaired, failed, skipped)', labelNames: ['result'], ...reg,
    }),
    accountRepairs: new Counter({
      name: 'moco_instance_account_repairs_total', help: 'Account changes the re-asserts made (each one is logged)', ...reg,
    }),
    coordinatorTerm: new Gauge({
      name: 'moco_instance_coordinator_term', help: 'The highest coordinator term seen: calls of older terms that change state are refused', ...reg,
    }),
  };
}
