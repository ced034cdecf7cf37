/**
 * Coordinator metrics: the seed system's `moco_cluster_*` and `moco_backup_*` series, labelled `name` and
 * `namespace`, plus write unavailability. One {@link CoordinatorMetrics} (one prom-client Registry) per process,
 * one {@link ClusterMetrics} handle per cluster a manager runs, so that one /metrics serves every cluster a
 * coordinator manages (the local coordinator process has one, the Kubernetes controller many); `remove()` drops
 * a cluster's series when its manager stops.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const L = ['name', 'namespace'] as const;

function build(registry: Registry) {
  const r = [registry];
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames: L, registers: r });
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: L, registers: r });
  return {
    checks: counter('moco_cluster_checks_total', 'Clustering operations run'),
    errors: counter('moco_cluster_errors_total', 'Clustering operations that failed'),
    available: gauge('moco_cluster_available', '1 if the cluster is available (NaN while clustering is stopped)'),
    healthy: gauge('moco_cluster_healthy', '1 if the cluster is healthy (NaN while clustering is stopped)'),
    switchovers: counter('moco_cluster_switchover_total', 'Completed switchovers'),
    failovers: counter('moco_cluster_failover_total', 'Completed failovers'),
    replicas: gauge('moco_cluster_replicas', 'Instances in the spec'),
    readyReplicas: gauge('moco_cluster_ready_replicas', 'Ready instances, the primary included'),
    errantReplicas: gauge('moco_cluster_errant_replicas', 'Errant replicas'),
    processing: new Histogram({
      name: 'moco_cluster_processing_time_seconds', help: 'Duration of one clustering operation',
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 30], labelNames: L, registers: r,
    }),
    clusteringStopped: gauge('moco_cluster_clustering_stopped', '1 while clustering is stopped'),
    reconciliationStopped: gauge('moco_cluster_reconciliation_stopped', '1 while reconciliation is stopped'),
    writeUnavailable: new Histogram({
      name: 'moco_cluster_write_unavailable_seconds',
      help: 'Seconds from losing (failover) or fencing (switchover) the primary until the new primary was writable',
      labelNames: [...L, 'operation'], buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60], registers: r,
    }),
    // Backups (the seed exports these from status.backup; plus failures and the run duration).
    backupTimestamp: gauge('moco_backup_timestamp', 'Unix time of the last successful backup'),
    backupElapsed: gauge('moco_backup_elapsed_seconds', 'Duration of the last successful backup'),
    backupDumpBytes: gauge('moco_backup_dump_bytes', 'Stored size of the last full backup'),
    backupBinlogBytes: gauge('moco_backup_binlog_bytes', 'Stored size of the last binlog archive'),
    backupWorkDirUsage: gauge('moco_backup_workdir_usage_bytes', 'Bytes the last backup staged on disk'),
    backupWarnings: gauge('moco_backup_warnings', 'Warnings of the last successful backup'),
    backupFailures: counter('moco_backup_failures_total', 'Backups that failed'),
    backupInProgress: gauge('moco_backup_in_progress', '1 while a backup runs'),
  };
}

type Families = ReturnType<typeof build>;

const OPERATIONS = ['failover', 'switchover'] as const;

/** One cluster's series: the same names as the families, bound to its labels. */
export interface ClusterMetrics {
  checks: { inc(): void };
  errors: { inc(): void };
  available: { set(v: number): void };
  healthy: { set(v: number): void };
  switchovers: { inc(): void };
  failovers: { inc(): void };
  replicas: { set(v: number): void };
  readyReplicas: { set(v: number): void };
  errantReplicas: { set(v: number): void };
  processing: { observe(seconds: number): void };
  clusteringStopped: { set(v: number): void };
  reconciliationStopped: { set(v: number): void };
  writeUnavailable: { observe(labels: { operation: (typeof OPERATIONS)[number] }, seconds: number): void };
  backupTimestamp: { set(v: number): void };
  backupElapsed: { set(v: number): void };
  backupDumpBytes: { set(v: number): void };
  backupBinlogBytes: { set(v: number): void };
  backupWorkDirUsage: { set(v: number): void };
  backupWarnings: { set(v: number): void };
  backupFailures: { inc(): void };
  backupInProgress: { set(v: number): void };
  /** Removes every series of this cluster (its manager stopped); later writes through this handle are ignored. */
  remove(): void;
}

/** The process's coordinator metrics: one registry, any number of clusters. */
export class CoordinatorMetrics {
  readonly registry: Registry;
  private readonly f: Families;
  private readonly clusters = new Set<string>();

  constructor(registry = new Registry()) {
    this.registry = registry;
    this.f = build(registry);
  }

  /** The handle for one cluster; a second handle for the same cluster before remove() is refused. */
  forCluster(name: string, namespace: string): ClusterMetrics {
    const key = `${namespace}/${name}`;
    if (this.clusters.has(key)) throw new Error(`metrics for cluster ${key} are already in use`);
    this.clusters.add(key);
    const labels = { name, namespace };
    const f = this.f;
    let removed = false;
    const counter = (c: Counter<'name' | 'namespace'>) => ({ inc: () => { if (!removed) c.inc(labels); } });
    const gauge = (g: Gauge<'name' | 'namespace'>) => ({ set: (v: number) => { if (!removed) g.set(labels, v); } });
    return {
      checks: counter(f.checks), errors: counter(f.errors), available: gauge(f.available), healthy: gauge(f.healthy),
      switchovers: counter(f.switchovers), failovers: counter(f.failovers), replicas: gauge(f.replicas),
      readyReplicas: gauge(f.readyReplicas), errantReplicas: gauge(f.errantReplicas),
      processing: { observe: (s) => { if (!removed) f.processing.observe(labels, s); } },
      clusteringStopped: gauge(f.clusteringStopped), reconciliationStopped: gauge(f.reconciliationStopped),
      writeUnavailable: { observe: (l, s) => { if (!removed) f.writeUnavailable.observe({ ...labels, ...l }, s); } },
      backupTimestamp: gauge(f.backupTimestamp), backupElapsed: gauge(f.backupElapsed), backupDumpBytes: gauge(f.backupDumpBytes),
      backupBinlogBytes: gauge(f.backupBinlogBytes), backupWorkDirUsage: gauge(f.backupWorkDirUsage),
      backupWarnings: gauge(f.backupWarnings), backupFailures: counter(f.backupFailures), backupInProgress: gauge(f.backupInProgress),
      remove: () => {
        if (removed) return;
        removed = true;
        for (const [k, m] of Object.entries(f)) {
          if (k === 'writeUnavailable') for (const operation of OPERATIONS) f.writeUnavailable.remove({ ...labels, operation });
          else (m as Counter<'name' | 'namespace'>).remove(labels);
        }
        this.clusters.delete(key);
      },
    };
  }
}
