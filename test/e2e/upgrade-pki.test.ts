/**
 * The upgrade path of a local cluster's certificates: a state directory made before certificates named their
 * cluster (leaves without a moco://<namespace>/<name> URI, no backup identity) starts again with `moco up`, its
 * leaves re-issued from the same CA, and the agents, which now refuse a certificate naming no cluster, accept the
 * coordinator.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { issueCert } from '../../src/shared/pki.ts';
import { IDENTITIES } from '../../src/shared/tls.ts';
import { LocalCluster } from './local-cluster.ts';

let c: LocalCluster | undefined;

describe('upgrading a state directory whose certificates name no cluster', () => {
  after(async () => {
    await c?.destroy();
  });

  it('re-issues them from the same CA at the next start, and the cluster becomes Healthy', async () => {
    c = await LocalCluster.up('upg', { replicas: 1 });
    await c.waitHealthy();
    assert.equal((await c.moco(['down', 'upg'])).code, 0);

    // Make the PKI look like one from before: leaves without URIs from the same CA, no backup pair.
    const pki = path.join(c.dir, 'upg', 'pki');
    const read = (f: string): Promise<string> => fs.readFile(path.join(pki, f), 'utf8');
    const ca = { cert: await read('ca.crt'), key: await read('ca.key') };
    for (const [name, commonName, usage] of [['agent', IDENTITIES.agent, 'both'], ['coordinator', IDENTITIES.coordinator, 'client']] as const) {
      const leaf = await issueCert(ca, { commonName, usage });
      await fs.writeFile(path.join(pki, `${name}.key`), leaf.key, { mode: 0o600 });
      await fs.writeFile(path.join(pki, `${name}.crt`), leaf.cert);
      assert.ok(!new X509Certificate(leaf.cert).subjectAltName?.includes('URI:'));
    }
    await fs.rm(path.join(pki, 'backup.crt'), { force: true });
    await fs.rm(path.join(pki, 'backup.key'), { force: true });

    const up = await c.moco(['up', '-d', '--name', 'upg', '--timeout', '120']);
    assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
    await c.waitHealthy();
    assert.equal(await read('ca.crt'), ca.cert, 'the CA is kept');
    for (const name of ['agent', 'coordinator', 'backup']) {
      const leaf = new X509Certificate(await read(`${name}.crt`));
      assert.ok(leaf.subjectAltName?.includes('URI:moco://default/upg'), `${name}: ${leaf.subjectAltName}`);
      assert.ok(leaf.checkIssued(new X509Certificate(ca.cert)));
    }
  });
});
