/**
 * Certificate renewal on Kubernetes: when a certificate is due (a third of its life left, another CA, unreadable),
 * the agents' Secret reissued only then, and the coordinator's connections moving to a renewed certificate while
 * calls under way finish on the old ones.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { agentCertSecret, needsRenewal } from '../../../../src/platform/kubernetes/certs.ts';
import type { Informer } from '../../../../src/platform/kubernetes/informer.ts';
import { KubernetesPlatform, type PodObject } from '../../../../src/platform/kubernetes/platform.ts';
import type { MySQLClusterObject } from '../../../../src/platform/kubernetes/reconciler.ts';
import type { Kube } from '../../../../src/platform/kubernetes/kube.ts';
import type { InstanceAgent } from '../../../../src/coordinator/platform.ts';
import { createCa, issueCert, type Pem } from '../../../../src/shared/pki.ts';
import { silentLogger } from '../../../../src/shared/logger.ts';

const DAY = 24 * 3600_000;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function leaf(ca: Pem, o: { validDays: number; startedDaysAgo?: number }): Promise<string> {
  return (await issueCert(ca, {
    commonName: 'moco-agent', usage: 'both', validDays: o.validDays,
    ...(o.startedDaysAgo ? { notBefore: new Date(Date.now() - o.startedDaysAgo * DAY) } : {}),
  })).cert;
}

describe('needsRenewal', async () => {
  const ca = await createCa('test-ca');
  const other = await createCa('other-ca');
  const cases: Array<{ name: string; cert: () => Promise<string | undefined>; due: boolean }> = [
    { name: 'a new 90-day certificate', cert: () => leaf(ca, { validDays: 90 }), due: false },
    { name: 'half-way through its life', cert: () => leaf(ca, { validDays: 45, startedDaysAgo: 45 }), due: false },
    { name: 'less than a third of its life left', cert: () => leaf(ca, { validDays: 20, startedDaysAgo: 70 }), due: true },
    { name: 'a day left of a year', cert: () => leaf(ca, { validDays: 1, startedDaysAgo: 364 }), due: true },
    { name: 'issued by another CA', cert: () => leaf(other, { validDays: 90 }), due: true },
    { name: 'missing', cert: async () => undefined, due: true },
    { name: 'not a certificate', cert: async () => 'garbage', due: true },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.due ? 'due' : 'not due'}`, async () => {
      assert.equal(needsRenewal(await c.cert(), ca.cert), c.due);
    });
  }
});

describe('agentCertSecret', async () => {
  const ca = await createCa('test-ca');
  const cluster = { name: 'c', namespace: 'ns' };
  const owner = { apiVersion: 'moco.cybozu.com/v1beta2', kind: 'MySQLCluster', name: 'c', uid: 'u', controller: true as const, blockOwnerDeletion: true as const };
  const dataWith = (cert: string): Record<string, string> => ({ 'ca.crt': b64(ca.cert), 'tls.crt': b64(cert), 'tls.key': b64('k') });

  it('leaves a current Secret alone', async () => {
    assert.equal(await agentCertSecret(ca, dataWith(await leaf(ca, { validDays: 90 })), cluster, owner), undefined);
  });

  it('reissues an aged certificate: a new one for 90 days from now, naming the cluster', async () => {
    const s = await agentCertSecret(ca, dataWith(await leaf(ca, { validDays: 20, startedDaysAgo: 70 })), cluster, owner) as { data: Record<string, string> } | undefined;
    assert.ok(s);
    const cert = new X509Certificate(Buffer.from(s.data['tls.crt'] ?? '', 'base64').toString());
    assert.ok(Date.parse(cert.validTo) > Date.now() + 89 * DAY);
    assert.match(cert.subjectAltName ?? '', /URI:moco:\/\/ns\/c/);
    assert.equal(needsRenewal(cert.toString(), ca.cert), false);
  });

  it('reissues when the CA changed', async () => {
    const other = await createCa('other-ca');
    const s = await agentCertSecret(other, dataWith(await leaf(ca, { validDays: 90 })), cluster, owner);
    assert.ok(s);
  });
});

describe('KubernetesPlatform.setTls', () => {
  it('makes new agent connections with the renewed certificate and closes the old ones only after a grace period', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const pod: PodObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'moco-c-0', namespace: 'ns' }, status: { podIP: '10.0.0.5' } };
    const pods = { get: () => pod, list: () => [pod] } as unknown as Informer<PodObject>;
    const clusters = { get: () => undefined, list: () => [] } as unknown as Informer<MySQLClusterObject>;
    const made: Array<{ closed: boolean }> = [];
    const platform = new KubernetesPlatform({
      kube: {} as Kube, namespace: 'ns', name: 'c', clusters, pods, controllerNamespace: 'moco-system', log: silentLogger(),
      tls: { caCert: Buffer.from('ca'), cert: Buffer.from('old'), key: Buffer.from('k') },
      makeAgent: () => {
        const a = { closed: false, close() { a.closed = true; } };
        made.push(a);
        return a as unknown as InstanceAgent & { close(): void };
      },
    });
    const first = platform.agent(0);
    assert.equal(platform.agent(0), first, 'the same connection while nothing changes');
    platform.setTls({ caCert: Buffer.from('ca'), cert: Buffer.from('new'), key: Buffer.from('k') });
    const second = platform.agent(0);
    assert.notEqual(second, first, 'a new connection with the renewed certificate');
    assert.equal(made[0]?.closed, false, 'the old connection stays open for calls under way');
    t.mock.timers.tick(60_000);
    assert.equal(made[0]?.closed, true, 'and is closed a minute later');
    assert.equal(made[1]?.closed, false);
  });
});
