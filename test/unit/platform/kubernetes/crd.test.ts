/** The CRDs: generated files current, the schema's spec fields those src/api validates, the seed's printer columns. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CRD_FILES, crdText } from '../../../../scripts/gen-crds.ts';
import { mysqlClusterCrd, schemaSpecFields, SPEC_FIELDS } from '../../../../src/platform/kubernetes/crd.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

describe('CRDs', () => {
  it('config/crd/bases is what src/platform/kubernetes/crd.ts generates (npm run gen:crds)', () => {
    for (const [file, make] of Object.entries(CRD_FILES)) assert.equal(readFileSync(path.join(root, file), 'utf8'), crdText(make), file);
  });

  it("declares exactly the spec fields src/api checks", () => {
    assert.deepEqual(schemaSpecFields().sort(), [...SPEC_FIELDS].sort());
  });

  it("has the seed's printer columns, in order", () => {
    const v = (mysqlClusterCrd().spec as { versions: Array<{ additionalPrinterColumns: Array<{ name: string }> }> }).versions[0];
    assert.deepEqual(v?.additionalPrinterColumns.map((c) => c.name.toUpperCase()),
      ['AVAILABLE', 'HEALTHY', 'PRIMARY', 'SYNCED REPLICAS', 'ERRANT REPLICAS', 'CLUSTERING ACTIVE', 'RECONCILE ACTIVE', 'LAST BACKUP']);
  });
});
