import assert from 'node:assert/strict';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { hasCode, type ErrorCode } from '../../../src/shared/errors.ts';
import { createCa, issueCert, type Pem } from '../../../src/shared/pki.ts';
import type { PeerCertificate } from 'node:tls';
import {
  clientCredentials,
  ensurePki,
  IDENTITIES,
  loadPkiFiles,
  peerIdentity,
  serverCredentials,
  type PeerAuthContext,
  type PkiIdentity,
  clusterServerIdentity,
} from '../../../src/shared/tls.ts';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const DAY_MS = 24 * 60 * 60 * 1000;

const IDS: PkiIdentity[] = [
  { name: 'coordinator', commonName: IDENTITIES.coordinator, usage: 'client' },
  { name: 'agent', commonName: IDENTITIES.agent, usage: 'server', dnsNames: ['localhost', 'agent-0.moco.svc'] },
];

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, part: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(hasCode(err, code), `want ${code}, got ${String(err)}`);
    assert.ok(err.message.includes(part), `message ${JSON.stringify(err.message)} should include ${part}`);
    return true;
  });
}

function throwsWith(fn: () => unknown, code: ErrorCode, part: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(hasCode(err, code), `want ${code}, got ${String(err)}`);
    assert.ok(err.message.includes(part), `message ${JSON.stringify(err.message)} should include ${part}`);
    return true;
  });
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

let tmp: string;
let ca: Pem;
let x509: typeof import('@peculiar/x509');

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'moco-tls-unit-'));
  ca = await createCa('unit-ca', { validDays: 30 });
  // Loaded by pki.ts already (with its Reflect stand-in); this import only reads the module cache.
  x509 = await import('@peculiar/x509');
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('createCa', () => {
  it('makes a self-signed P-256 CA with CA:true and keyCertSign|cRLSign', () => {
    const cert = new X509Certificate(ca.cert);
    assert.equal(cert.subject, 'CN=unit-ca');
    assert.equal(cert.issuer, 'CN=unit-ca');
    assert.equal(cert.ca, true);
    assert.ok(cert.checkIssued(cert) && cert.verify(cert.publicKey), 'self-signed');

    const parsed = new x509.X509Certificate(ca.cert);
    const bc = parsed.getExtension(x509.BasicConstraintsExtension);
    assert.ok(bc?.ca === true && bc.critical, 'basicConstraints CA:true, critical');
    const ku = parsed.getExtension(x509.KeyUsagesExtension);
    assert.equal(ku?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);

    const key = createPrivateKey(ca.key);
    assert.ok(ca.key.startsWith('-----BEGIN PRIVATE KEY-----'), 'PKCS#8 PEM');
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(cert.checkPrivateKey(key));
  });

  it('honours validDays, backdating the start a little for clock skew', () => {
    const cert = new X509Certificate(ca.cert);
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    assert.ok(from <= Date.now() && from > Date.now() - DAY_MS);
    assert.ok(Math.abs(to - Date.now() - 30 * DAY_MS) < 60_000, `validTo ${cert.validTo}`);
  });

  it('rejects an empty CN and a non-positive validity', async () => {
    await rejectsWith(createCa(' '), 'INVALID_ARGUMENT', 'commonName');
    await rejectsWith(createCa('x', { validDays: 0 }), 'INVALID_ARGUMENT', 'validDays');
  });
});

describe('issueCert', () => {
  it('issues a leaf signed by the CA with the default SANs', async () => {
    const leaf = await issueCert(ca, { commonName: 'moco-agent', usage: 'server' });
    const cert = new X509Certificate(leaf.cert);
    const caCert = new X509Certificate(ca.cert);
    assert.equal(cert.subject, 'CN=moco-agent');
    assert.equal(cert.issuer, 'CN=unit-ca');
    assert.ok(cert.checkIssued(caCert), 'issued by the CA');
    assert.ok(cert.verify(caCert.publicKey), 'signed by the CA key');
    assert.equal(cert.ca, false);
    assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.ok(cert.checkPrivateKey(createPrivateKey(leaf.key)));
    assert.equal(createPrivateKey(leaf.key).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('puts exactly the given DNS names and IPs in the SAN', async () => {
    const leaf = await issueCert(ca, {
      commonName: 'agent-1',
      usage: 'both',
      dnsNames: ['agent-1.moco.svc', 'localhost'],
      ipAddresses: ['10.0.0.7'],
    });
    assert.equal(new X509Certificate(leaf.cert).subjectAltName, 'DNS:agent-1.moco.svc, DNS:localhost, IP Address:10.0.0.7');
  });

  const usages: { usage: 'server' | 'client' | 'both'; want: string[] }[] = [
    { usage: 'server', want: [SERVER_AUTH] },
    { usage: 'client', want: [CLIENT_AUTH] },
    { usage: 'both', want: [SERVER_AUTH, CLIENT_AUTH] },
  ];
  for (const { usage, want } of usages) {
    it(`sets the extended key usage for '${usage}'`, async () => {
      const leaf = await issueCert(ca, { commonName: 'x', usage });
      // Node calls the extended key usage OIDs `keyUsage`.
      assert.deepEqual(new X509Certificate(leaf.cert).keyUsage, want);
    });
  }

  it('signs with an existing RSA CA too', async () => {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const rsaCaCert = await x509.X509CertificateGenerator.createSelfSigned(
      { name: 'CN=rsa-ca', keys, signingAlgorithm: alg, extensions: [new x509.BasicConstraintsExtension(true, 0, true)] },
      webcrypto,
    );
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    const rsaCa = { cert: rsaCaCert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
    const leaf = new X509Certificate((await issueCert(rsaCa, { commonName: 'x', usage: 'server' })).cert);
    assert.ok(leaf.checkIssued(new X509Certificate(rsaCa.cert)) && leaf.verify(new X509Certificate(rsaCa.cert).publicKey));
  });

  it('keeps a CN with commas as one attribute', async () => {
    const leaf = await issueCert(ca, { commonName: 'a,O=evil', usage: 'client' });
    const parsed = new x509.X509Certificate(leaf.cert);
    assert.deepEqual(parsed.subjectName.toJSON(), [{ CN: ['a,O=evil'] }]);
  });

  it('rejects bad arguments and a CA key that does not match', async () => {
    await rejectsWith(issueCert(ca, { commonName: '', usage: 'server' }), 'INVALID_ARGUMENT', 'commonName');
    await rejectsWith(issueCert(ca, { commonName: 'x', usage: 'server', ipAddresses: ['1.2.3'] }), 'INVALID_ARGUMENT', '1.2.3');
    await rejectsWith(issueCert(ca, { commonName: 'x', usage: 'server', dnsNames: ['a b'] }), 'INVALID_ARGUMENT', 'a b');
    const bad = { commonName: 'x', usage: 'peer' as 'server' };
    await rejectsWith(issueCert(ca, bad), 'INVALID_ARGUMENT', 'usage');
    const other = await createCa('other-ca');
    const mismatched = { cert: ca.cert, key: other.key };
    await rejectsWith(issueCert(mismatched, { commonName: 'x', usage: 'server' }), 'FAILED_PRECONDITION', 'does not belong');
    const leaf = await issueCert(ca, { commonName: 'leaf', usage: 'server' });
    await rejectsWith(issueCert(leaf, { commonName: 'x', usage: 'server' }), 'INVALID_ARGUMENT', 'not a CA');
  });
});

describe('ensurePki', () => {
  it('creates the directory, CA and leaves with the right modes', async () => {
    const dir = join(tmp, 'fresh', 'pki');
    const files = await ensurePki(dir, IDS);
    assert.deepEqual(Object.keys(files).sort(), ['agent', 'coordinator']);
    assert.deepEqual(files.agent, { caCert: join(dir, 'ca.crt'), cert: join(dir, 'agent.crt'), key: join(dir, 'agent.key') });
    assert.equal(await mode(dir), 0o700);
    for (const name of ['ca', 'agent', 'coordinator']) {
      assert.equal(await mode(join(dir, `${name}.key`)), 0o600, `${name}.key`);
      assert.equal(await mode(join(dir, `${name}.crt`)), 0o644, `${name}.crt`);
    }
    const caCert = new X509Certificate(await readFile(join(dir, 'ca.crt')));
    assert.equal(caCert.ca, true);
    const agent = new X509Certificate(await readFile(join(dir, 'agent.crt')));
    assert.equal(agent.subject, `CN=${IDENTITIES.agent}`);
    assert.ok(agent.checkIssued(caCert) && agent.verify(caCert.publicKey));
    assert.equal(agent.subjectAltName, 'DNS:localhost, DNS:agent-0.moco.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.deepEqual(agent.keyUsage, [SERVER_AUTH]);
    const coordinator = new X509Certificate(await readFile(join(dir, 'coordinator.crt')));
    assert.equal(coordinator.subject, `CN=${IDENTITIES.coordinator}`);
    assert.deepEqual(coordinator.keyUsage, [CLIENT_AUTH]);
    // Every pair loads as gRPC material.
    for (const f of Object.values(files)) loadPkiFiles(f);
  });

  it('is idempotent: a second call leaves every file byte-identical with the same mtime', async () => {
    const dir = join(tmp, 'idempotent');
    await ensurePki(dir, IDS);
    const names = ['ca.crt', 'ca.key', 'agent.crt', 'agent.key', 'coordinator.crt', 'coordinator.key'];
    const snapshot = async (): Promise<{ name: string; text: string; mtimeMs: number }[]> =>
      Promise.all(
        names.map(async (name) => ({
          name,
          text: await readFile(join(dir, name), 'utf8'),
          mtimeMs: (await stat(join(dir, name))).mtimeMs,
        })),
      );
    const first = await snapshot();
    await ensurePki(dir, IDS);
    assert.deepEqual(await snapshot(), first);
  });

  it('re-issues a missing leaf from the existing CA and leaves everything else alone', async () => {
    const dir = join(tmp, 'missing-leaf');
    await ensurePki(dir, IDS);
    const caBefore = await readFile(join(dir, 'ca.crt'), 'utf8');
    const coordinatorBefore = await readFile(join(dir, 'coordinator.crt'), 'utf8');
    const agentBefore = await readFile(join(dir, 'agent.crt'), 'utf8');
    await unlink(join(dir, 'agent.key'));
    await ensurePki(dir, IDS);
    assert.equal(await readFile(join(dir, 'ca.crt'), 'utf8'), caBefore);
    assert.equal(await readFile(join(dir, 'coordinator.crt'), 'utf8'), coordinatorBefore);
    const agentAfter = await readFile(join(dir, 'agent.crt'), 'utf8');
    assert.notEqual(agentAfter, agentBefore, 'the pair was issued again');
    const caCert = new X509Certificate(caBefore);
    const agent = new X509Certificate(agentAfter);
    assert.ok(agent.checkIssued(caCert) && agent.verify(caCert.publicKey), 'issued by the existing CA');
    assert.ok(agent.checkPrivateKey(createPrivateKey(await readFile(join(dir, 'agent.key')))));
    assert.equal(await mode(join(dir, 'agent.key')), 0o600);
  });

  it('adds a new identity from the existing CA', async () => {
    const dir = join(tmp, 'new-identity');
    await ensurePki(dir, IDS);
    const files = await ensurePki(dir, [...IDS, { name: 'agent-1', commonName: IDENTITIES.agent, usage: 'both' }]);
    assert.ok(files['agent-1']);
    loadPkiFiles(files['agent-1']);
  });

  it('re-issues, from the same CA, a leaf whose cluster URIs differ (a state directory from before certificates named their cluster)', async () => {
    const dir = join(tmp, 'upgrade');
    await ensurePki(dir, IDS); // no URIs: as every local cluster had them before
    const caBefore = await readFile(join(dir, 'ca.crt'), 'utf8');
    const caKeyBefore = await readFile(join(dir, 'ca.key'), 'utf8');
    const uris = ['moco://default/c1'];
    const named = IDS.map((id) => ({ ...id, uris }));
    const files = await ensurePki(dir, named);
    assert.equal(await readFile(join(dir, 'ca.crt'), 'utf8'), caBefore, 'the CA is kept');
    assert.equal(await readFile(join(dir, 'ca.key'), 'utf8'), caKeyBefore);
    const caCert = new X509Certificate(caBefore);
    for (const name of ['agent', 'coordinator']) {
      const leaf = new X509Certificate(await readFile(join(dir, `${name}.crt`)));
      assert.ok(leaf.subjectAltName?.endsWith(', URI:moco://default/c1'), leaf.subjectAltName);
      assert.ok(leaf.checkIssued(caCert) && leaf.verify(caCert.publicKey));
      loadPkiFiles(files[name]!);
    }
    // Named now: the next call writes nothing.
    const agentNamed = await readFile(join(dir, 'agent.crt'), 'utf8');
    await ensurePki(dir, named);
    assert.equal(await readFile(join(dir, 'agent.crt'), 'utf8'), agentNamed);
    // Another cluster name re-issues again; identities without `uris` leave URIs alone.
    await ensurePki(dir, IDS);
    assert.equal(await readFile(join(dir, 'agent.crt'), 'utf8'), agentNamed);
    await ensurePki(dir, IDS.map((id) => ({ ...id, uris: ['moco://default/c2'] })));
    assert.ok(new X509Certificate(await readFile(join(dir, 'agent.crt'))).subjectAltName?.endsWith('URI:moco://default/c2'));
  });

  it('serialises concurrent callers: every re-issued pair still matches', async () => {
    const dir = join(tmp, 'concurrent');
    await ensurePki(dir, IDS);
    const named = IDS.map((id) => ({ ...id, uris: ['moco://default/c1'] }));
    await Promise.all(Array.from({ length: 6 }, () => ensurePki(dir, named)));
    for (const name of ['agent', 'coordinator']) {
      loadPkiFiles({ caCert: join(dir, 'ca.crt'), cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });
    }
    await assert.rejects(stat(join(dir, '.lock')), 'the lock file is gone');
  });

  it('fails clearly when the CA key is missing but the CA cert exists, and the other way round', async () => {
    const dir = join(tmp, 'no-ca-key');
    await ensurePki(dir, IDS);
    const caKey = await readFile(join(dir, 'ca.key'));
    await unlink(join(dir, 'ca.key'));
    await rejectsWith(ensurePki(dir, IDS), 'FAILED_PRECONDITION', `not ${join(dir, 'ca.key')}`);
    await writeFile(join(dir, 'ca.key'), caKey, { mode: 0o600 });
    await unlink(join(dir, 'ca.crt'));
    await rejectsWith(ensurePki(dir, IDS), 'FAILED_PRECONDITION', `not ${join(dir, 'ca.crt')}`);
  });

  it('refuses a CA key that does not match the CA cert, and a leaf from another CA', async () => {
    const dir = join(tmp, 'mismatch');
    await ensurePki(dir, IDS);
    const caKey = await readFile(join(dir, 'ca.key'));
    await writeFile(join(dir, 'ca.key'), (await createCa('intruder')).key);
    await rejectsWith(ensurePki(dir, IDS), 'FAILED_PRECONDITION', `${join(dir, 'ca.key')} does not belong`);
    await writeFile(join(dir, 'ca.key'), caKey);
    const foreign = await issueCert(await createCa('intruder'), { commonName: 'moco-agent', usage: 'server' });
    await writeFile(join(dir, 'agent.crt'), foreign.cert);
    await writeFile(join(dir, 'agent.key'), foreign.key);
    await rejectsWith(ensurePki(dir, IDS), 'FAILED_PRECONDITION', 'was not issued by the CA');
  });

  it('rejects bad identity names before touching the disk', async () => {
    const dir = join(tmp, 'never-created');
    await rejectsWith(ensurePki(dir, [{ name: '../x', commonName: 'x', usage: 'server' }]), 'INVALID_ARGUMENT', '../x');
    await rejectsWith(ensurePki(dir, [{ name: 'ca', commonName: 'x', usage: 'server' }]), 'INVALID_ARGUMENT', '"ca"');
    await rejectsWith(ensurePki(dir, [IDS[0]!, IDS[0]!]), 'INVALID_ARGUMENT', 'twice');
    await assert.rejects(stat(dir), { code: 'ENOENT' });
  });
});

describe('loadPkiFiles and credentials', () => {
  it('loads a matching triple and builds server and client credentials from it', async () => {
    const files = await ensurePki(join(tmp, 'creds'), IDS);
    const agent = files.agent!;
    const material = loadPkiFiles(agent);
    assert.equal(material.caCert.toString(), await readFile(agent.caCert, 'utf8'));
    assert.ok(serverCredentials(agent)._isSecure());
    assert.ok(clientCredentials(files.coordinator!)._isSecure());
  });

  it('names the missing, unparsable or mismatched file', async () => {
    const files = (await ensurePki(join(tmp, 'bad-files'), IDS)).agent!;
    const missing = join(tmp, 'bad-files', 'nope.key');
    throwsWith(() => loadPkiFiles({ ...files, key: missing }), 'INVALID_ARGUMENT', `${missing} does not exist`);
    throwsWith(() => loadPkiFiles({ ...files, cert: files.caCert, key: files.key }), 'INVALID_ARGUMENT', 'does not belong');
    const garbage = join(tmp, 'bad-files', 'garbage.crt');
    await writeFile(garbage, 'not a certificate');
    throwsWith(() => loadPkiFiles({ ...files, caCert: garbage }), 'INVALID_ARGUMENT', garbage);
    const otherCa = join(tmp, 'bad-files', 'other-ca.crt');
    await writeFile(otherCa, (await createCa('other')).cert);
    throwsWith(() => loadPkiFiles({ ...files, caCert: otherCa }), 'INVALID_ARGUMENT', 'was not issued by the CA');
  });
});

describe('peerIdentity', () => {
  const cert = (CN: unknown): PeerAuthContext['sslPeerCertificate'] =>
    ({ subject: { CN }, raw: Buffer.alloc(1) }) as unknown as PeerAuthContext['sslPeerCertificate'];
  const tls = (CN?: unknown) => ({
    getAuthContext: (): PeerAuthContext => ({
      transportSecurityType: 'ssl',
      ...(CN === undefined ? {} : { sslPeerCertificate: cert(CN) }),
    }),
  });
  const cases: { name: string; call: Parameters<typeof peerIdentity>[0]; want: string | undefined }[] = [
    { name: 'verified TLS peer', call: tls('moco-controller'), want: 'moco-controller' },
    { name: 'insecure connection (empty context)', call: { getAuthContext: () => ({}) }, want: undefined },
    { name: 'TLS without a client certificate', call: tls(), want: undefined },
    { name: 'several CNs', call: tls(['a', 'b']), want: undefined },
    { name: 'empty CN', call: tls(''), want: undefined },
    { name: 'null context', call: { getAuthContext: () => null }, want: undefined },
    { name: 'call without getAuthContext', call: {}, want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(peerIdentity(c.call), c.want));
  }
});

describe('clusterServerIdentity', () => {
  it('accepts a server certificate naming exactly the cluster, whatever address it was reached by, and refuses others', async () => {
    const ca = await createCa('test CA');
    const san = async (uris: string[]): Promise<PeerCertificate> => {
      const leaf = await issueCert(ca, { commonName: 'moco-agent', usage: 'both', dnsNames: ['*.moco-a.ns.svc'], ipAddresses: [], uris });
      return { subjectaltname: new X509Certificate(leaf.cert).subjectAltName } as PeerCertificate;
    };
    const check = clusterServerIdentity({ namespace: 'ns', name: 'a' });
    assert.equal(check('10.244.1.7', await san(['moco://ns/a'])), undefined);
    assert.match(String(check('10.244.1.7', await san(['moco://ns/b']))), /belongs to cluster ns\/b, but this agent serves cluster ns\/a/);
    assert.match(String(check('10.244.1.7', await san([]))), /names no cluster/);
    assert.match(String(check('10.244.1.7', await san(['moco://ns/a', 'moco://ns/b']))), /names 2 clusters/);
  });
});
