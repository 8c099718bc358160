/**
 * The generated copies: the CRD in the chart and in deploy/ is byte-identical to crds/, and
 * deploy/ is exactly what scripts/sync-manifests.sh produces from the chart (run it after
 * changing either, and commit the result).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/corpus.js';
import { CHART_DIR, NAMESPACE, findHelm, parseManifests } from './helm.js';

const CRD_SOURCE = join(REPO_ROOT, 'crds', 'serving.tfmodel.dev_tfmodels.yaml');
const SYNC_SCRIPT = join(REPO_ROOT, 'scripts', 'sync-manifests.sh');
/** The files the script writes, relative to the repository root. */
const GENERATED = ['charts/tfmodel-operator/crds/serving.tfmodel.dev_tfmodels.yaml', 'deploy/00-crd.yaml', 'deploy/operator.yaml'];
const STALE = 'out of date: run `bash scripts/sync-manifests.sh` and commit the result';

describe('CRD copies', () => {
  const source = readFileSync(CRD_SOURCE);

  it('charts/tfmodel-operator/crds/ holds exactly a byte-identical copy of crds/', () => {
    assert.deepEqual(readdirSync(join(CHART_DIR, 'crds')), ['serving.tfmodel.dev_tfmodels.yaml']);
    assert.ok(readFileSync(join(CHART_DIR, 'crds', 'serving.tfmodel.dev_tfmodels.yaml')).equals(source), `the chart's CRD is ${STALE}`);
  });

  it('deploy/00-crd.yaml is a byte-identical copy of crds/', () => {
    assert.ok(readFileSync(join(REPO_ROOT, 'deploy', '00-crd.yaml')).equals(source), `deploy/00-crd.yaml is ${STALE}`);
  });
});

describe('deploy/ (kubectl apply -f deploy/)', function () {
  it('applies only 00-crd.yaml then operator.yaml (examples/ is a subdirectory, not applied)', () => {
    const applied = readdirSync(join(REPO_ROOT, 'deploy'), { withFileTypes: true })
      .filter((e) => e.isFile() && /\.(ya?ml|json)$/.test(e.name))
      .map((e) => e.name)
      .sort();
    assert.deepEqual(applied, ['00-crd.yaml', 'operator.yaml']);
  });

  it('puts the operator in its own restricted Namespace, created first', () => {
    const objects = parseManifests(readFileSync(join(REPO_ROOT, 'deploy', 'operator.yaml'), 'utf8'));
    assert.equal(objects[0]?.kind, 'Namespace');
    assert.equal(objects[0]?.metadata.name, NAMESPACE);
    assert.equal(objects[0]?.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
    for (const object of objects.slice(1)) {
      if (!['ClusterRole', 'ClusterRoleBinding'].includes(object.kind)) assert.equal(object.metadata.namespace, NAMESPACE, `${object.kind}/${object.metadata.name}`);
    }
    assert.deepEqual(
      objects.map((o) => o.kind).sort(),
      ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount'],
    );
  });

  const { helm, skipReason } = findHelm();
  if (!helm) {
    it.skip(`skipped: ${skipReason}`);
    return;
  }

  it('is what scripts/sync-manifests.sh produces', function () {
    this.timeout(60_000);
    const out = mkdtempSync(join(tmpdir(), 'tfmodel-sync-'));
    try {
      execFileSync('bash', [SYNC_SCRIPT, out], { env: { ...process.env, HELM: helm }, stdio: ['ignore', 'pipe', 'pipe'] });
      for (const file of GENERATED) {
        const expected = readFileSync(join(out, file), 'utf8');
        const actual = readFileSync(join(REPO_ROOT, file), 'utf8');
        assert.ok(actual === expected, `${file} is ${STALE}`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
