/**
 * deploy/examples/: every TFModel there validates against the CRD's structural schema (types,
 * enums, patterns, required fields, no unknown fields). The CRD's CEL rules are evaluated by the
 * apiserver in the end-to-end tests, not here.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { REPO_ROOT } from '../support/corpus.js';
import { parseManifests } from './helm.js';
import { describeErrors, tfmodelValidator } from './crd-schema.js';

const EXAMPLES = join(REPO_ROOT, 'deploy', 'examples');

interface TFModelDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown> & {
    basePath: string;
    gpu?: { fraction: string; sharing?: string; resourceName?: string };
    versionPolicy?: { specific?: { versions: number[] } };
    versionLabels?: Record<string, number>;
  };
}

function examples(file: string): TFModelDoc[] {
  return parseManifests(readFileSync(join(EXAMPLES, file), 'utf8')) as unknown as TFModelDoc[];
}

describe('deploy/examples', () => {
  let validate: ValidateFunction;
  before(() => {
    validate = tfmodelValidator();
  });

  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();

  it('has the documented examples', () => {
    assert.deepEqual(files, ['gpu-fraction.yaml', 'half-plus-two-cpu.yaml', 'stable-test-labels.yaml']);
  });

  for (const file of files) {
    it(`${file}: every document is a TFModel that validates against the CRD schema`, () => {
      const docs = examples(file);
      assert.ok(docs.length > 0);
      for (const doc of docs) {
        assert.equal(doc.apiVersion, 'serving.tfmodel.dev/v1alpha1');
        assert.equal(doc.kind, 'TFModel');
        // The CRD's CEL rule on names (it names the model's Service): a DNS-1035 label, at most 56.
        assert.match(doc.metadata.name, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
        assert.ok(doc.metadata.name.length <= 56);
        assert.ok(validate(doc), `${file} ${doc.metadata.name}: ${describeErrors(validate.errors)}`);
      }
    });
  }

  it('shows what the docs promise', () => {
    const [cpu] = examples('half-plus-two-cpu.yaml');
    assert.equal(cpu?.spec.basePath, 'pvc://models/half_plus_two');
    assert.equal(cpu?.spec.gpu, undefined);
    const gpu = examples('gpu-fraction.yaml');
    assert.deepEqual(
      gpu.map((d) => d.spec.gpu?.sharing),
      ['TimeSlicing', 'MIG'],
    );
    assert.equal(gpu[0]!.spec.gpu!.fraction, '0.25');
    assert.match(gpu[1]!.spec.gpu!.resourceName ?? '', /^nvidia\.com\/mig-/);
    const [labels] = examples('stable-test-labels.yaml');
    assert.deepEqual(labels?.spec.versionPolicy, { specific: { versions: [1, 2] } });
    assert.deepEqual(labels?.spec.versionLabels, { stable: 1, test: 2 });
  });

  it('the validator is not vacuous: it refuses unknown fields, wrong types and bad patterns', () => {
    const good = examples('gpu-fraction.yaml')[0]!;
    const refuses = (mutate: (doc: TFModelDoc) => void, pattern: RegExp) => {
      const doc = structuredClone(good);
      mutate(doc);
      assert.equal(validate(doc), false, `accepted ${JSON.stringify(doc.spec)}`);
      assert.match(describeErrors(validate.errors), pattern);
    };
    refuses((d) => (d.spec['replica'] = 2), /additionalProperty.*replica/);
    refuses((d) => ((d.spec.gpu as Record<string, unknown>)['fraction'] = 0.25), /\/spec\/gpu\/fraction must be string/);
    refuses((d) => (d.spec.gpu!.fraction = '1.5'), /\/spec\/gpu\/fraction must match pattern/);
    refuses((d) => (d.spec.gpu!.sharing = 'Shared'), /\/spec\/gpu\/sharing must be equal to one of the allowed values/);
    refuses((d) => delete (d.spec as Partial<TFModelDoc['spec']>).basePath, /must have required property 'basePath'/);
    refuses((d) => ((d.spec as Record<string, unknown>)['versionLabels'] = { stable: '2' }), /\/spec\/versionLabels\/stable must be integer/);
    refuses((d) => (d.spec['resources'] = { limits: { memory: '1 Gi' } }), /\/spec\/resources\/limits\/memory must match pattern/);
    // int-or-string quantities take both forms.
    const quantities = structuredClone(good);
    quantities.spec['resources'] = { requests: { cpu: 2, memory: '1Gi' } };
    assert.ok(validate(quantities), describeErrors(validate.errors));
  });
});
