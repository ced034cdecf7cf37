/**
 * mTLS and authorization on a real agent: only certificates from the cluster's CA get through, and the
 * caller's identity decides what it may call (the coordinator: everything; a peer agent: the donor stream).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AgentClient } from '../../src/shared/agent-client.ts';
import { MocoError } from '../../src/shared/errors.ts';
import { agentProto, channelOptionsFor } from '../../src/shared/proto.ts';
import { clientCredentials, loadPkiFiles } from '../../src/shared/tls.ts';
import { ensureClusterPki } from '../../src/platform/local/instance.ts';
import { createTestCluster, type TestCluster, type TestInstance } from '../helpers/harness.ts';

let cluster: TestCluster;
let inst: TestInstance;

async function refused(client: AgentClient, codes: string[]): Promise<void> {
  await assert.rejects(client.getStatus({ timeoutMs: 5000 }), (e: unknown) => {
    assert.ok(e instanceof MocoError);
    assert.ok(codes.includes(e.code), `${e.code}: ${e.message}`);
    return true;
  });
  client.close();
}

describe('agent mTLS and authorization', () => {
  before(async () => {
    cluster = await createTestCluster('sec');
    inst = await cluster.add();
  });
  after(async () => {
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
});
