/**
 * mTLS and authorization on a real agent: only certificates from the cluster's CA get through, every certificate
 * must name the agent's cluster (one CA may serve many clusters, as the Kubernetes controller's does), and the
 * caller's identity decides what it may call (the coordinator: everything; a peer agent: the donor stream; a backup
 * runner: GetStatus, Backup, Restore).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AgentDaemon } from '../../src/agent/daemon.ts';
import { createAgentMetrics } from '../../src/agent/metrics.ts';
import { bucketConfigOf } from '../../src/backup/runner.ts';
import { clusterPrefix, formatKeyTime } from '../../src/backup/layout.ts';
import { AgentClient } from '../../src/shared/agent-client.ts';
import { MocoError } from '../../src/shared/errors.ts';
import { agentProto, channelOptionsFor } from '../../src/shared/proto.ts';
import { clusterUri, issueCert } from '../../src/shared/pki.ts';
import { clientCredentials, clientCredentialsFrom, IDENTITIES, loadPkiFiles, type PkiMaterial } from '../../src/shared/tls.ts';
import { ensureClusterPki } from '../../src/platform/local/instance.ts';
import { createTestCluster, testLogger, type TestCluster, type TestInstance } from '../helpers/harness.ts';

let cluster: TestCluster;
let inst: TestInstance;
const clients: AgentClient[] = [];

async function refused(client: AgentClient, codes: string[], message?: RegExp): Promise<void> {
  await assert.rejects(client.getStatus({ timeoutMs: 5000 }), (e: unknown) => {
    assert.ok(e instanceof MocoError);
    assert.ok(codes.includes(e.code), `${e.code}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  });
  client.close();
}

/** A certificate from this cluster's own CA for `commonName`, naming `uris` (the controller's CA serves many clusters). */
async function sameCaCert(commonName: string, uris: string[], usage: 'client' | 'both' = 'client'): Promise<PkiMaterial> {
  const dir = path.dirname(cluster.pki.agent.caCert);
  const ca = { cert: await fs.readFile(path.join(dir, 'ca.crt'), 'utf8'), key: await fs.readFile(path.join(dir, 'ca.key'), 'utf8') };
  const leaf = await issueCert(ca, { commonName, usage, uris });
  return { caCert: Buffer.from(ca.cert), cert: Buffer.from(leaf.cert), key: Buffer.from(leaf.key) };
}

function clientWith(m: PkiMaterial): AgentClient {
  const c = new AgentClient(inst.grpcAddress, clientCredentialsFrom(m));
  clients.push(c);
  return c;
}

/** Runs a raw call of the Agent service and returns its gRPC status code (0 when it succeeded). */
function rawUnaryCode(client: AgentClient, method: string, req: object): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    const fn = (client.raw as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void) => void>)[method];
    fn!.call(client.raw, req, { deadline: Date.now() + 5000 }, (err) => resolve({ code: err?.code ?? 0, details: err?.details ?? '' }));
  });
}

function streamCode(call: grpc.ClientReadableStream<unknown>): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    call.on('data', () => {
      call.cancel();
    });
    call.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details }));
    call.on('end', () => resolve({ code: 0, details: '' }));
  });
}

describe('agent mTLS and authorization', () => {
  before(async () => {
    cluster = await createTestCluster('sec');
    inst = await cluster.add();
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster?.close();
  });

  test('the coordinator identity may call the agent', async () => {
    const st = await inst.client.getStatus();
    assert.equal(st.serverId, 100);
  });

  test('a client without a certificate is refused', async () => {
    const m = loadPkiFiles(cluster.pki.coordinator);
    await refused(new AgentClient(inst.grpcAddress, grpc.credentials.createSsl(m.caCert)), ['MYSQLD_UNAVAILABLE', 'UNAUTHENTICATED']);
  });

  test('a client with a certificate from another CA is refused', async () => {
    const other = await ensureClusterPki(path.join(cluster.base, 'other-pki'), { namespace: 'default', name: 'sec' });
    // Trust the real server, present a certificate the server's CA never issued.
    const m = loadPkiFiles(other.coordinator);
    const creds = grpc.credentials.createSsl(loadPkiFiles(cluster.pki.coordinator).caCert, m.key, m.cert);
    await refused(new AgentClient(inst.grpcAddress, creds), ['MYSQLD_UNAVAILABLE', 'UNAUTHENTICATED']);
  });

  test('a peer agent may not call the coordinator\'s RPCs', async () => {
    await refused(new AgentClient(inst.grpcAddress, cluster.pki.agent), ['PERMISSION_DENIED']);
  });

  test('a peer agent may open the donor stream', async () => {
    const proto = agentProto();
    const donor = new proto.Donor(inst.grpcAddress, clientCredentials(cluster.pki.agent), channelOptionsFor(inst.grpcAddress));
    const call = donor.StreamClone({});
    let bytes = 0;
    try {
      for await (const chunk of call as AsyncIterable<{ data: Buffer }>) {
        bytes += chunk.data.length;
        if (bytes > 1024) break;
      }
    } catch (err) {
      const e = err as grpc.ServiceError;
      // MySQL has no donor stream (CLONE INSTANCE pulls instead); anything but an authorization error is fine.
      assert.ok(e.code !== grpc.status.PERMISSION_DENIED && e.code !== grpc.status.UNAUTHENTICATED, e.message);
    } finally {
      call.cancel();
      donor.close();
    }
    assert.ok(bytes > 0 || cluster.install.flavor === 'mysql');
  });

  test('a coordinator certificate of another cluster (same CA) is refused for GetStatus and ConfigureReplica', async () => {
    const other = clientWith(await sameCaCert(IDENTITIES.coordinator, [clusterUri('default', 'other')]));
    const both = /belongs to cluster default\/other, but this agent serves cluster default\/sec/;
    await assert.rejects(other.configureReplica({ sourceHost: '127.0.0.1', sourcePort: 3306, semiSync: true }), (e: unknown) => {
      assert.ok(e instanceof MocoError && e.code === 'PERMISSION_DENIED', String(e));
      assert.match(e.message, both);
      return true;
    });
    await refused(other, ['PERMISSION_DENIED'], both);
    // The same name in another namespace is another cluster.
    await refused(clientWith(await sameCaCert(IDENTITIES.coordinator, [clusterUri('prod', 'sec')])), ['PERMISSION_DENIED'], /prod\/sec/);
    // Nothing was changed: the instance is not a replica.
    assert.equal((await inst.client.getStatus()).replica, null);
  });

  test('a certificate that names no cluster is refused, saying to reissue it', async () => {
    await refused(clientWith(await sameCaCert(IDENTITIES.coordinator, [])), ['PERMISSION_DENIED'],
      /names no cluster.*reissue the certificate with the URI moco:\/\/default\/sec/);
  });

  test('a donor stream from an agent of another cluster is refused', async () => {
    const m = await sameCaCert(IDENTITIES.agent, [clusterUri('default', 'other')], 'both');
    const donor = new (agentProto().Donor)(inst.grpcAddress, clientCredentialsFrom(m), channelOptionsFor(inst.grpcAddress));
    try {
      const r = await streamCode(donor.StreamClone({}) as grpc.ClientReadableStream<unknown>);
      assert.equal(r.code, grpc.status.PERMISSION_DENIED, r.details);
      assert.match(r.details, /default\/other.*default\/sec/);
    } finally {
      donor.close();
    }
  });

  test('a backup certificate may call GetStatus, Backup and Restore, and nothing else', async () => {
    const backup = new AgentClient(inst.grpcAddress, cluster.pki.backup);
    clients.push(backup);
    assert.equal((await backup.getStatus()).serverId, 100);
    const dir = path.join(cluster.base, 'bucket');
    await fs.mkdir(dir);
    const bucket = bucketConfigOf({ backendType: 'file', bucket: dir });
    const prefix = clusterPrefix('default', 'sec');
    const time = formatKeyTime(new Date());
    const result = await backup.backup({ bucket, prefix, time, clusterNamespace: 'default', clusterName: 'sec', sourceIndex: 0 }, () => undefined);
    assert.equal(result.time, time);
    // Restore is allowed: it gets past authorization to its own check (this instance's backup needs an empty one).
    await assert.rejects(backup.restore({ bucket, prefix, time: '20000101-000000', passwords: {} }, () => undefined), (e: unknown) => {
      assert.ok(e instanceof MocoError && e.code !== 'PERMISSION_DENIED' && e.code !== 'UNAUTHENTICATED', String(e));
      return true;
    });
    const forbidden: [string, object][] = [
      ['ConfigurePrimary', { waitForReplicaCount: 0 }], ['ConfigureReplica', { sourceHost: '127.0.0.1', sourcePort: 1 }],
      ['StopReplicaIO', {}], ['WaitForGtid', { gtidSet: '', timeoutMs: 10 }], ['SetReadOnly', {}], ['SetWritable', {}],
      ['KillConnections', {}], ['FlushBinlogs', {}], ['Clone', { donorAgentAddress: inst.grpcAddress }],
    ];
    for (const [method, req] of forbidden) {
      const r = await rawUnaryCode(backup, method, req);
      assert.equal(r.code, grpc.status.PERMISSION_DENIED, `${method}: ${r.details}`);
      assert.match(r.details, new RegExp(`"moco-backup" may not call ${method}`));
    }
    const watch = await streamCode(backup.raw.WatchStatus({}) as unknown as grpc.ClientReadableStream<unknown>);
    assert.equal(watch.code, grpc.status.PERMISSION_DENIED, watch.details);
    const donor = new (agentProto().Donor)(inst.grpcAddress, clientCredentials(cluster.pki.backup), channelOptionsFor(inst.grpcAddress));
    try {
      const r = await streamCode(donor.StreamClone({}) as grpc.ClientReadableStream<unknown>);
      assert.equal(r.code, grpc.status.PERMISSION_DENIED, r.details);
    } finally {
      donor.close();
    }
  });

  test('an agent whose own certificate names another cluster does not start', () => {
    const l = inst.layout;
    assert.throws(() => new AgentDaemon({
      clusterName: 'other', clusterNamespace: 'default', index: 9, socketPath: l.socket, dataDir: l.dataDir, myCnfPath: l.myCnf,
      passwords: { agent: 'x', replication: 'x', cloneDonor: 'x' }, statusTimeoutMs: 2000, maxDelayMs: 60_000, queueingWaitMs: 5000,
      logger: testLogger(), metrics: createAgentMetrics('other', 9, { processMetrics: false }),
      grpcAddress: '127.0.0.1:0', httpAddress: { host: '127.0.0.1', port: 0 }, tls: cluster.pki.agent,
      tools: { mariadbBackup: 'mariadb-backup', mbstream: 'mbstream' },
      watchIntervalMs: 100, heartbeatMs: 1000, unreachableMs: 800, shutdownGraceMs: 1000,
    }), (e: unknown) => {
      assert.ok(e instanceof MocoError && e.code === 'FAILED_PRECONDITION', String(e));
      assert.match(e.message, /agent's certificate .*agent\.crt belongs to cluster default\/sec, but this agent serves cluster default\/other/);
      return true;
    });
  });
});
