import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { authorizeCall, fencedByTerm, RPC_POLICY, type RpcMethod } from '../../../src/agent/rpc/authorize.ts';
import { hasCode, type ErrorCode } from '../../../src/shared/errors.ts';
import { IDENTITIES, type PeerInfo } from '../../../src/shared/tls.ts';

const OWN = { namespace: 'default', name: 'a' };
const SAN = 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1';
const peer = (commonName: string | undefined, uris: string[]): PeerInfo =>
  ({ commonName, serialNumber: '0A1B', subjectAltName: [SAN, ...uris.map((u) => `URI:${u}`)].join(', ') });
const { coordinator: C, agent: A, backup: B } = IDENTITIES;

describe('authorizeCall', () => {
  const cases: { name: string; peer: PeerInfo | undefined; method: RpcMethod; code?: ErrorCode; message?: RegExp }[] = [
    { name: 'the coordinator of this cluster: GetStatus', peer: peer(C, ['moco://default/a']), method: 'GetStatus' },
    { name: 'the coordinator of this cluster: ConfigureReplica', peer: peer(C, ['moco://default/a']), method: 'ConfigureReplica' },
    { name: 'a peer agent of this cluster: StreamClone', peer: peer(A, ['moco://default/a']), method: 'StreamClone' },
    { name: 'the backup runner of this cluster: GetStatus', peer: peer(B, ['moco://default/a']), method: 'GetStatus' },
    { name: 'the backup runner of this cluster: Backup', peer: peer(B, ['moco://default/a']), method: 'Backup' },
    { name: 'the backup runner of this cluster: Restore', peer: peer(B, ['moco://default/a']), method: 'Restore' },
    {
      name: 'the coordinator of another cluster: GetStatus', peer: peer(C, ['moco://default/b']), method: 'GetStatus',
      code: 'PERMISSION_DENIED', message: /belongs to cluster default\/b, but this agent serves cluster default\/a; GetStatus refused/,
    },
    {
      name: 'the coordinator of the same name in another namespace', peer: peer(C, ['moco://ns2/a']), method: 'SetWritable',
      code: 'PERMISSION_DENIED', message: /cluster ns2\/a.*cluster default\/a/,
    },
    {
      name: 'a peer agent of another cluster: StreamClone', peer: peer(A, ['moco://default/b']), method: 'StreamClone',
      code: 'PERMISSION_DENIED', message: /default\/b.*default\/a/,
    },
    {
      name: 'a certificate without a cluster URI', peer: peer(C, []), method: 'GetStatus',
      code: 'PERMISSION_DENIED', message: /names no cluster.*reissue the certificate with the URI moco:\/\/default\/a/,
    },
    {
      name: 'a certificate naming two clusters', peer: peer(C, ['moco://default/a', 'moco://default/b']), method: 'GetStatus',
      code: 'PERMISSION_DENIED', message: /names 2 clusters/,
    },
    {
      name: 'a peer agent calling a coordinator RPC', peer: peer(A, ['moco://default/a']), method: 'GetStatus',
      code: 'PERMISSION_DENIED', message: /"moco-agent" may not call GetStatus; allowed: moco-controller, moco-backup/,
    },
    {
      name: 'the backup runner calling a topology RPC', peer: peer(B, ['moco://default/a']), method: 'SetWritable',
      code: 'PERMISSION_DENIED', message: /"moco-backup" may not call SetWritable/,
    },
    {
      name: 'the backup runner opening a donor stream', peer: peer(B, ['moco://default/a']), method: 'StreamClone',
      code: 'PERMISSION_DENIED', message: /"moco-backup" may not call StreamClone/,
    },
    {
      name: 'an unknown CN of this cluster', peer: peer('someone', ['moco://default/a']), method: 'GetStatus',
      code: 'PERMISSION_DENIED', message: /"someone" may not call GetStatus/,
    },
    {
      name: 'no single CN', peer: peer(undefined, ['moco://default/a']), method: 'GetStatus',
      code: 'PERMISSION_DENIED', message: /no single common name/,
    },
    { name: 'no certificate', peer: undefined, method: 'GetStatus', code: 'UNAUTHENTICATED', message: /client certificate/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (!c.code) {
        assert.equal(authorizeCall(c.peer, c.method, OWN), c.peer?.commonName);
        return;
      }
      assert.throws(() => authorizeCall(c.peer, c.method, OWN), (err: unknown) => {
        assert.ok(hasCode(err, c.code as ErrorCode), `want ${c.code}, got ${String(err)}`);
        assert.match(err.message, c.message as RegExp);
        return true;
      });
    });
  }
});

describe('RPC_POLICY', () => {
  it('covers every RPC of both services in the proto, and nothing else', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    const proto = readFileSync(path.join(root, 'proto/moco/agent/v1/agent.proto'), 'utf8');
    const rpcs = [...proto.matchAll(/^\s*rpc (\w+)\(/gm)].map((m) => m[1]).sort();
    assert.deepEqual(Object.keys(RPC_POLICY).sort(), rpcs);
  });

  it('fences every RPC that changes state, and none that only reads', () => {
    const changing = Object.entries(RPC_POLICY).filter(([, p]) => p.fence !== 'none').map(([m]) => m).sort();
    assert.deepEqual(changing, ['Backup', 'Clone', 'ConfigurePrimary', 'ConfigureReplica', 'FlushBinlogs', 'KillConnections',
      'Restore', 'SetReadOnly', 'SetWritable', 'StopReplicaIO']);
  });

  it('lets the backup runner call exactly what src/backup/runner.ts calls', () => {
    const allowed = Object.entries(RPC_POLICY).filter(([, p]) => (p.callers as readonly string[]).includes(B)).map(([m]) => m).sort();
    assert.deepEqual(allowed, ['Backup', 'GetStatus', 'Restore']);
  });

  it('fences only the coordinator by term', () => {
    assert.deepEqual([C, A, B, 'x'].map(fencedByTerm), [true, false, false, false]);
  });
});
