/** Metrics per process: one registry serves every cluster, series labelled name/namespace, removed on stop. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoordinatorMetrics } from '../../../src/coordinator/metrics.ts';

describe('coordinator metrics', () => {
  it('one registry exposes several clusters under the seed names, each labelled name and namespace', async () => {
    const m = new CoordinatorMetrics();
    const a = m.forCluster('a', 'default');
    const b = m.forCluster('b', 'prod');
    a.checks.inc();
    a.checks.inc();
    b.checks.inc();
    a.available.set(1);
    b.available.set(0);
    a.processing.observe(0.2);
    b.writeUnavailable.observe({ operation: 'failover' }, 0.7);
    a.backupDumpBytes.set(10);
    const text = await m.registry.metrics();
    assert.match(text, /^moco_cluster_checks_total\{name="a",namespace="default"\} 2$/m);
    assert.match(text, /^moco_cluster_checks_total\{name="b",namespace="prod"\} 1$/m);
    assert.match(text, /^moco_cluster_available\{name="a",namespace="default"\} 1$/m);
    assert.match(text, /^moco_cluster_available\{name="b",namespace="prod"\} 0$/m);
    assert.match(text, /^moco_cluster_processing_time_seconds_count\{name="a",namespace="default"\} 1$/m);
    assert.match(text, /^moco_cluster_write_unavailable_seconds_count\{name="b",namespace="prod",operation="failover"\} 1$/m);
    assert.match(text, /^moco_backup_dump_bytes\{name="a",namespace="default"\} 10$/m);
    assert.match(text, /^# HELP moco_cluster_available 1 if the cluster is available \(NaN while clustering is stopped\)$/m);
    assert.equal(text.match(/^# TYPE moco_cluster_checks_total counter$/gm)?.length, 1, 'one family for all clusters');
  });

  it('remove() drops every series of that cluster only, and later writes through its handle are ignored', async () => {
    const m = new CoordinatorMetrics();
    const a = m.forCluster('a', 'default');
    const b = m.forCluster('b', 'default');
    for (const h of [a, b]) {
      h.checks.inc();
      h.errantReplicas.set(0);
      h.processing.observe(1);
      h.writeUnavailable.observe({ operation: 'switchover' }, 0.5);
      h.backupFailures.inc();
    }
    a.remove();
    a.checks.inc();
    a.available.set(1);
    const text = await m.registry.metrics();
    assert.doesNotMatch(text, /name="a"/);
    assert.match(text, /^moco_cluster_checks_total\{name="b",namespace="default"\} 1$/m);
    assert.match(text, /^moco_cluster_write_unavailable_seconds_count\{name="b",namespace="default",operation="switchover"\} 1$/m);
    assert.match(text, /^moco_backup_failures_total\{name="b",namespace="default"\} 1$/m);
    // The name is free again (a cluster re-created, a manager restarted).
    const again = m.forCluster('a', 'default');
    again.checks.inc();
    assert.match(await m.registry.metrics(), /^moco_cluster_checks_total\{name="a",namespace="default"\} 1$/m);
  });

  it('two live handles for one cluster are refused (their series would mix)', () => {
    const m = new CoordinatorMetrics();
    m.forCluster('a', 'default');
    assert.throws(() => m.forCluster('a', 'default'), /already in use/);
    m.forCluster('a', 'other');
  });
});
