// Mutual TLS end to end: a real grpc-js server on 127.0.0.1:0 with serverCredentials, real clients, and
// certificates from ensurePki. Refused connections must fail the call and never reach the handler.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

import {
  clientCredentials,
  ensurePki,
  IDENTITIES,
  peerIdentity,
  serverCredentials,
  type PkiFiles,
} from '../../src/shared/tls.ts';

const PROTO = `
syntax = "proto3";
package moco.test.mtls;
service Echo { rpc Ping(PingRequest) returns (PingReply); }
message PingRequest {}
message PingReply { string identity = 1; }
`;

interface PingReply {
  identity: string;
}
type EchoClient = grpc.Client & {
  Ping(req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: PingReply) => void): grpc.ClientUnaryCall;
};
type EchoClientCtor = new (address: string, creds: grpc.ChannelCredentials) => EchoClient;

interface RunningServer {
  server: grpc.Server;
  address: string;
  /** How many times the Ping handler ran. */
  calls: () => number;
}

let tmp: string;
let service: grpc.ServiceDefinition;
let Echo: EchoClientCtor;
let cluster: Record<string, PkiFiles>;
let foreign: Record<string, PkiFiles>;
let main: RunningServer;
const servers: grpc.Server[] = [];
const clients: grpc.Client[] = [];

async function startServer(files: PkiFiles): Promise<RunningServer> {
  const server = new grpc.Server();
  servers.push(server);
  let calls = 0;
  server.addService(service, {
    Ping: (call: grpc.ServerUnaryCall<object, PingReply>, cb: grpc.sendUnaryData<PingReply>) => {
      calls++;
      cb(null, { identity: peerIdentity(call) ?? '' });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', serverCredentials(files), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { server, address: `127.0.0.1:${port}`, calls: () => calls };
}

function ping(address: string, creds: grpc.ChannelCredentials): Promise<PingReply> {
  const client = new Echo(address, creds);
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.Ping({}, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

/** Asserts the call fails at the transport (not with a handler's answer) and that no handler ran. */
async function assertRefused(p: Promise<unknown>, server: RunningServer, before: number): Promise<void> {
  await assert.rejects(p, (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.UNAVAILABLE, `want UNAVAILABLE, got ${err.code}: ${err.details}`);
    return true;
  });
  assert.equal(server.calls(), before, 'the handler must not run for a refused peer');
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'moco-grpc-mtls-'));
  const protoPath = join(tmp, 'echo.proto');
  await writeFile(protoPath, PROTO);
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath)) as unknown as {
    moco: { test: { mtls: { Echo: EchoClientCtor & { service: grpc.ServiceDefinition } } } };
  };
  Echo = pkg.moco.test.mtls.Echo;
  service = pkg.moco.test.mtls.Echo.service;

  const ids = [
    { name: 'coordinator', commonName: IDENTITIES.coordinator, usage: 'client' as const },
    { name: 'agent', commonName: IDENTITIES.agent, usage: 'server' as const },
  ];
  cluster = await ensurePki(join(tmp, 'cluster'), ids);
  foreign = await ensurePki(join(tmp, 'foreign'), ids);
  main = await startServer(cluster.agent!);
});

after(async () => {
  for (const c of clients) c.close();
  for (const s of servers) s.forceShutdown();
  await rm(tmp, { recursive: true, force: true });
});

describe('gRPC mutual TLS', () => {
  it('lets a client with a certificate from the cluster CA through and reports its CN', async () => {
    const before = main.calls();
    const reply = await ping(main.address, clientCredentials(cluster.coordinator!));
    assert.equal(reply.identity, IDENTITIES.coordinator);
    assert.equal(main.calls(), before + 1);
  });

  it('refuses a client without a certificate', async () => {
    const caOnly = grpc.credentials.createSsl(await readFile(cluster.coordinator!.caCert));
    await assertRefused(ping(main.address, caOnly), main, main.calls());
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    // It trusts the right CA, so only its own certificate can be the reason it is refused.
    const f = foreign.coordinator!;
    const clusterCa = await readFile(cluster.coordinator!.caCert);
    const creds = grpc.credentials.createSsl(clusterCa, await readFile(f.key), await readFile(f.cert));
    await assertRefused(ping(main.address, creds), main, main.calls());
  });

  it('makes the client refuse a server whose certificate comes from another CA', async () => {
    const impostor = await startServer(foreign.agent!);
    await assertRefused(ping(impostor.address, clientCredentials(cluster.coordinator!)), impostor, 0);
  });
});
