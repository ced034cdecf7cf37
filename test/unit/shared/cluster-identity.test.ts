import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterMismatch, clusterUrisOf, clusterUrisOfPem, subjectAltNameEntries } from '../../../src/shared/cluster-identity.ts';
import { createCa, issueCert } from '../../../src/shared/pki.ts';

describe('subjectAltNameEntries', () => {
  const cases: { name: string; san: string | undefined; want: [string, string][] }[] = [
    { name: 'none', san: undefined, want: [] },
    { name: 'empty', san: '', want: [] },
    { name: 'one URI', san: 'URI:moco://default/a', want: [['URI', 'moco://default/a']] },
    {
      name: 'DNS, IPs and a URI, as issueCert makes them',
      san: 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, URI:moco://ns/n',
      want: [['DNS', 'localhost'], ['IP Address', '127.0.0.1'], ['IP Address', '0:0:0:0:0:0:0:1'], ['URI', 'moco://ns/n']],
    },
    {
      // Node quotes a value with a comma: it must not split into a second, forged entry.
      name: 'a quoted value holding ", URI:"',
      san: 'URI:"moco://a/b\\u002c URI:moco://default/x", DNS:x',
      want: [['URI', 'moco://a/b, URI:moco://default/x'], ['DNS', 'x']],
    },
    { name: 'a broken quote ends the list', san: 'DNS:a, URI:"moco://x', want: [['DNS', 'a']] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(subjectAltNameEntries(c.san), c.want));

  it('reads what issueCert wrote', async () => {
    const ca = await createCa('t');
    const leaf = await issueCert(ca, { commonName: 'moco-agent', usage: 'both', uris: ['moco://ns1/c1', 'https://example.com/x'] });
    assert.deepEqual(clusterUrisOfPem(leaf.cert), ['moco://ns1/c1']);
    assert.deepEqual(clusterUrisOf('DNS:moco://x, URI:moco://a/b'), ['moco://a/b']);
  });
});

describe('clusterMismatch', () => {
  const own = { namespace: 'default', name: 'a' };
  const cases: { name: string; uris: string[]; want: RegExp | undefined }[] = [
    { name: 'the same cluster', uris: ['moco://default/a'], want: undefined },
    { name: 'another cluster, both named', uris: ['moco://default/b'], want: /belongs to cluster default\/b, but this agent serves cluster default\/a/ },
    { name: 'the same name in another namespace', uris: ['moco://other/a'], want: /cluster other\/a.*default\/a/ },
    { name: 'no cluster URI: reissue', uris: [], want: /names no cluster.*reissue the certificate with the URI moco:\/\/default\/a/ },
    { name: 'two clusters', uris: ['moco://default/a', 'moco://default/b'], want: /names 2 clusters.*exactly one/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = clusterMismatch(c.uris, own, 'the cert');
      if (c.want === undefined) assert.equal(got, undefined);
      else assert.match(got ?? '', c.want);
    });
  }
});
