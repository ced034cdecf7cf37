/**
 * Certificate rotation without restarts, on real agents and mysqld: the agent's certificate files are laid out as
 * the kubelet mounts a Secret (`..data` a symlink to a timestamped directory, swapped atomically on update). A new
 * pair is used for new connections within about one poll interval; mysqld keeps its PID and uptime, the agent its
 * port and open connections; bad files are refused and the old certificate stays; after a CA rotation the agents'
 * own client side (the clone donor stream) uses the new certificate too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AgentClient } from '../../src/shared/agent-client.ts';
import { clusterUri, createCa, issueCert, type Pem } from '../../src/shared/pki.ts';
import type { PkiFiles } from '../../src/shared/tls.ts';
import { createTestCluster, waitFor, type TestCluster, type TestInstance } from '../helpers/harness.ts';

const RELOAD_MS = 200;
let cluster: TestCluster;
let ca: Pem;
let inst: TestInstance;
let certDir: string;
const clients: AgentClient[] = [];

/** The kubelet's layout of a Secret volume; `swap` replaces all three files at once. */
class SecretVolume {
  private version = 0;
  constructor(readonly dir: string) {}

  get files(): PkiFiles {
    return { caCert: path.join(this.dir, 'ca.crt'), cert: path.join(this.dir, 'tls.crt'), key: path.join(this.dir, 'tls.key') };
  }

  async swap(files: { 'ca.crt': string; 'tls.crt': string; 'tls.key': string }): Promise<void> {
    const name = `..v${++this.version}`;
    await fs.mkdir(path.join(this.dir, name), { recursive: true });
    for (const [f, text] of Object.entries(files)) await fs.writeFile(path.join(this.dir, name, f), text);
    const previous = await fs.readlink(path.join(this.dir, '..data')).catch(() => undefined);
    await fs.symlink(name, path.join(this.dir, '..data_tmp'));
    await fs.rename(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
    for (const f of Object.keys(files)) await fs.symlink(path.join('..data', f), path.join(this.dir, f)).catch(() => undefined);
    if (previous) await fs.rm(path.join(this.dir, previous), { recursive: true });
  }
}

const agentLeaf = (issuer: Pem, name = 'rot'): Promise<Pem> =>
  issueCert(issuer, { commonName: 'moco-agent', usage: 'both', uris: [clusterUri('default', name)] });
const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber;

/** The serial number of the certificate a brand-new gRPC connection to `address` is shown (it also makes a call). */
async function serialSeen(address: string, caCert: string | Buffer, client: Pem): Promise<string> {
  let serial = '';
  const creds = grpc.credentials.createSsl(Buffer.from(caCert), Buffer.from(client.key), Buffer.from(client.cert), {
    checkServerIdentity: (_host, cert) => {
      serial = cert.serialNumber;
      return undefined;
    },
  });
  const c = new AgentClient(address, creds);
  try {
    await c.getStatus({ timeoutMs: 5000 });
  } finally {
    c.close();
  }
  return serial;
}

let coordinatorPem: Pem;

describe('certificate rotation without restarting mysqld', () => {
  before(async () => {
    cluster = await createTestCluster('rot');
    const pkiDir = path.dirname(cluster.pki.agent.caCert);
    ca = { cert: await fs.readFile(path.join(pkiDir, 'ca.crt'), 'utf8'), key: await fs.readFile(path.join(pkiDir, 'ca.key'), 'utf8') };
    coordinatorPem = { cert: await fs.readFile(cluster.pki.coordinator.cert, 'utf8'), key: await fs.readFile(cluster.pki.coordinator.key, 'utf8') };
    certDir = path.join(cluster.base, 'grpc-cert-0');
    const vol = new SecretVolume(certDir);
    const first = await agentLeaf(ca);
    await vol.swap({ 'ca.crt': ca.cert, 'tls.crt': first.cert, 'tls.key': first.key });
    inst = await cluster.add({ agentOptions: { tls: vol.files, tlsReloadIntervalMs: RELOAD_MS } });
    volumes.set(inst.index, vol);
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster?.close();
  });
  const volumes = new Map<number, SecretVolume>();

  test('a new pair from the same CA is served to new connections; mysqld and open connections are untouched', async () => {
    const vol = volumes.get(0)!;
    const before = await inst.client.getStatus();
    const pid = inst.supervisor.pid;
    const port = inst.daemon.grpcPort;
    const oldSerial = await serialSeen(inst.grpcAddress, ca.cert, coordinatorPem);
    assert.equal(oldSerial, inst.daemon.tls.serialNumber);
    // A stream opened before the rotation keeps running on its connection.
    let events = 0;
    const stopWatch = inst.client.watchStatus(() => events++, () => undefined);

    const next = await agentLeaf(ca);
    assert.notEqual(serialOf(next.cert), oldSerial);
    const swapped = Date.now();
    await vol.swap({ 'ca.crt': ca.cert, 'tls.crt': next.cert, 'tls.key': next.key });
    await waitFor(async () => (await serialSeen(inst.grpcAddress, ca.cert, coordinatorPem)) === serialOf(next.cert), 10_000,
      'a new connection to see the new certificate');
    const tookMs = Date.now() - swapped;
    process.stdout.write(`# rotation: a new connection saw the new certificate ${tookMs} ms after the swap (poll ${RELOAD_MS} ms)\n`);

    const after = await inst.client.getStatus(); // the connection made before the swap
    assert.equal(inst.supervisor.pid, pid, 'mysqld was not restarted');
    assert.ok(Number(after.uptimeSeconds) >= Number(before.uptimeSeconds), 'mysqld uptime did not start over');
    assert.equal(inst.daemon.grpcPort, port);
    const seen = events;
    await waitFor(() => events > seen, 3000, 'the status stream opened before the swap to keep delivering');
    stopWatch();
  });

  test('bad files are refused and the current certificate stays in use', async () => {
    const vol = volumes.get(0)!;
    const current = inst.daemon.tls.serialNumber;
    const good = await agentLeaf(ca);
    const other = await agentLeaf(await createCa('another-ca'));
    const bad: [string, { 'ca.crt': string; 'tls.crt': string; 'tls.key': string }][] = [
      ['a key that does not belong to the certificate', { 'ca.crt': ca.cert, 'tls.crt': good.cert, 'tls.key': other.key }],
      ['a certificate of another cluster', { 'ca.crt': ca.cert, ...pair(await agentLeaf(ca, 'other')) }],
      ['a certificate from a CA not in ca.crt', { 'ca.crt': ca.cert, ...pair(other) }],
      ['garbage', { 'ca.crt': ca.cert, 'tls.crt': 'not a certificate', 'tls.key': good.key }],
    ];
    for (const [what, files] of bad) {
      await vol.swap(files);
      await new Promise((r) => setTimeout(r, RELOAD_MS * 4));
      assert.equal(inst.daemon.tls.serialNumber, current, what);
      assert.equal(await serialSeen(inst.grpcAddress, ca.cert, coordinatorPem), current, what);
    }
    // Valid files again: picked up.
    await vol.swap({ 'ca.crt': ca.cert, ...pair(good) });
    await waitFor(async () => (await serialSeen(inst.grpcAddress, ca.cert, coordinatorPem)) === serialOf(good.cert), 10_000,
      'the valid pair after the bad ones');
  });

  test('a CA rotation: servers and the donor stream\'s client side use the new CA\'s certificates', async () => {
    // A second instance to clone into; both agents then trust only the new CA.
    const vol1 = new SecretVolume(path.join(cluster.base, 'grpc-cert-1'));
    await vol1.swap({ 'ca.crt': ca.cert, ...pair(await agentLeaf(ca)) });
    const recipient = await cluster.add({ agentOptions: { tls: vol1.files, tlsReloadIntervalMs: RELOAD_MS } });
    volumes.set(recipient.index, vol1);
    const ca2 = await createCa('moco-ca-rotated');
    const leaf0 = await agentLeaf(ca2);
    const leaf1 = await agentLeaf(ca2);
    await volumes.get(0)!.swap({ 'ca.crt': ca2.cert, ...pair(leaf0) });
    await vol1.swap({ 'ca.crt': ca2.cert, ...pair(leaf1) });
    const coordinator2 = await issueCert(ca2, { commonName: 'moco-controller', usage: 'client', uris: [clusterUri('default', 'rot')] });
    for (const [i, leaf] of [[inst, leaf0], [recipient, leaf1]] as const) {
      await waitFor(async () => (await serialSeen(i.grpcAddress, ca2.cert, coordinator2).catch(() => '')) === serialOf(leaf.cert), 10_000,
        `instance ${i.index} to serve the new CA's certificate`);
    }
    // The donor now refuses the old CA's certificates on new connections: a recipient still presenting its old
    // certificate could not open the stream.
    await assert.rejects(serialSeen(inst.grpcAddress, ca.cert, coordinatorPem));
    const c2 = new AgentClient(recipient.grpcAddress, grpc.credentials.createSsl(Buffer.from(ca2.cert), Buffer.from(coordinator2.key),
      Buffer.from(coordinator2.cert)));
    clients.push(c2);
    const r = await c2.clone({ donorAgentAddress: inst.grpcAddress, donorHost: '127.0.0.1', donorPort: inst.port });
    assert.ok(Number(r.bytesTransferred) > 0);
  });
});

function pair(p: Pem): { 'tls.crt': string; 'tls.key': string } {
  return { 'tls.crt': p.cert, 'tls.key': p.key };
}
