/** Coordinator metrics (`moco_cluster_*`, labels name and namespace), as in the seed system, plus write unavailability. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createClusterMetrics(name: string, namespace: string, registry = new Registry()) {
  const labels = { name, namespace };
  registry.setDefaultLabels(labels);
  const r = [registry];
  const m = {
    registry,
    checks: new Counter({ name: 'moco_cluster_checks_total', help: 'Clustering operations run', registers: r }),
    errors: new Counter({ name: 'moco_cluster_errors_total', help: 'Clustering operations that failed', registers: r }),
    available: new Gauge({ name: 'moco_cluster_available', help: '1 if the cluster is available (NaN while clustering is stopped)', registers: r }),
    healthy: new Gauge({ name: 'moco_cluster_healthy', help: '1 if the cluster is healthy (NaN while clustering is stopped)', registers: r }),
    switchovers: new Counter({ name: 'moco_cluster_switchover_total', help: 'Completed switchovers', registers: r }),
    failovers: new Counter({ name: 'moco_cluster_failover_total', help: 'Completed failovers', registers: r }),
    replicas: new Gauge({ name: 'moco_cluster_replicas', help: 'Instances in the spec', registers: r }),
    readyReplicas: new Gauge({ name: 'moco_cluster_ready_replicas', help: 'Ready instances, the primary included', registers: r }),
    errantReplicas: new Gauge({ name: 'moco_cluster_errant_replicas', help: 'Errant replicas', registers: r }),
    processing: new Histogram({
      name: 'moco_cluster_processing_time_seconds', help: 'Duration of one clustering operation',
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 30], registers: r,
    }),
    clusteringStopped: new Gauge({ name: 'moco_cluster_clustering_stopped', help: '1 while clustering is stopped', registers: r }),
    reconciliationStopped: new Gauge({ name: 'moco_cluster_reconciliation_stopped', help: '1 while reconciliation is stopped', registers: r }),
    writeUnavailable: new Histogram({
      name: 'moco_cluster_write_unavailable_seconds',
      help: 'Seconds from losing (failover) or fencing (switchover) the primary until the new primary was writable',
      labelNames: ['operation'], buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60], registers: r,
    }),
    // Backups (the seed exports these from status.backup; plus failures and the run duration).
    backupTimestamp: new Gauge({ name: 'moco_backup_timestamp', help: 'Unix time of the last successful backup', registers: r }),
    backupElapsed: new Gauge({ name: 'moco_backup_elapsed_seconds', help: 'Duration of the last successful backup', registers: r }),
    backupDumpBytes: new Gauge({ name: 'moco_backup_dump_bytes', help: 'Stored size of the last full backup', registers: r }),
    backupBinlogBytes: new Gauge({ name: 'moco_backup_binlog_bytes', help: 'Stored size of the last binlog archive', registers: r }),
    backupWorkDirUsage: new Gauge({ name: 'moco_backup_workdir_usage_bytes', help: 'Bytes the last backup staged on disk', registers: r }),
    backupWarnings: new Gauge({ name: 'moco_backup_warnings', help: 'Warnings of the last successful backup', registers: r }),
    backupFailures: new Counter({ name: 'moco_backup_failures_total', help: 'Backups that failed', registers: r }),
    backupInProgress: new Gauge({ name: 'moco_backup_in_progress', help: '1 while a backup runs', registers: r }),
  };
  return m;
}

export type ClusterMetrics = ReturnType<typeof createClusterMetrics>;
