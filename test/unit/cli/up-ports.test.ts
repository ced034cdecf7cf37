import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocate } from '../../../src/platform/local/controller.ts';
import { freePort } from '../../../src/shared/net.ts';
import type { ClusterFile } from '../../../src/platform/local/state.ts';

describe('local cluster ports', () => {
  it('freePort never returns the same port twice in a process, nor an excluded one', async () => {
    const seen = new Set<number>();
    for (let k = 0; k < 200; k++) {
      const p = await freePort([...seen]);
      assert.ok(!seen.has(p), `port ${p} returned twice`);
      seen.add(p);
    }
  });

  it('allocate gives every instance ports distinct from each other and from the cluster ones', async () => {
    const cluster: ClusterFile = {
      name: 'x', namespace: 'default', createdAt: new Date().toISOString(),
      primaryPort: await freePort(), replicaPort: await freePort(), coordinatorHttpPort: await freePort(), instances: [],
    };
    assert.equal(await allocate(cluster, 3), true);
    assert.equal(await allocate(cluster, 5), true);
    assert.equal(await allocate(cluster, 5), false);
    const ports = [cluster.primaryPort, cluster.replicaPort, cluster.coordinatorHttpPort,
      ...cluster.instances.flatMap((p) => [p.mysqlPort, p.grpcPort, p.httpPort])];
    assert.equal(cluster.instances.length, 5);
    assert.equal(new Set(ports).size, ports.length, `duplicate ports: ${ports.join(' ')}`);
  });
});
