/**
 * The operator with an object-store basePath, end to end: the CRD's CEL rules on a real
 * kube-apiserver accept s3:// and gs:// URLs and refuse malformed ones; a TFModel on
 * s3://<bucket>/<prefix> with its credentials in a Secret is reconciled by the real operator and
 * served by real tfmodel-servers reading a real S3-compatible server (versitygw), the Secret's
 * keys resolved as the kubelet does (ServingPods); a version uploaded to the bucket hot-loads.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HALF_PLUS_THREE_BASE, HALF_PLUS_TWO_BASE } from '../support/test-models.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, S3TestServer, s3ServerBinary } from '../support/s3-server.js';
import type { TFModel } from '../../src/operator/api/tfmodel.js';
import { REPO_ROOT } from '../support/corpus.js';
import { filesOf } from '../support/object-store-cases.js';
import { type ControlPlane, controlPlaneBinaries, KWOK_TOLERATION, poll, startControlPlane } from './harness/index.js';
import { type OperatorProcess, ServingPods, startOperatorProcess } from './harness/operator.js';

const NAMESPACE = 'e2e-store';

describe('e2e operator: TFModels on object storage (s3://, gs://)', function () {
  let plane: ControlPlane | undefined;
  let operator: OperatorProcess | undefined;
  let s3: S3TestServer | undefined;
  let work: string;
  const servingPods: ServingPods[] = [];

  before(async function () {
    this.timeout(30 * 60_000);
    const { binaries, skipReason } = controlPlaneBinaries(); // throws under CI=true
    const gateway = s3ServerBinary(); // throws under CI=true
    if (!binaries || !gateway.value) {
      console.warn(`skipping: ${skipReason ?? gateway.skipReason}`);
      this.skip();
    }
    work = mkdtempSync(join(tmpdir(), 'tfmodel-e2e-store-'));
    s3 = new S3TestServer(gateway.value, join(work, 'store'));
    await s3.start();
    await s3.createBucket('models');
    plane = await startControlPlane({ binaries, nodes: [{ name: 'cpu-0' }] });
    await plane.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { check: true });
    await plane.kubectl(['wait', '--for=condition=Established', 'crd/tfmodels.serving.tfmodel.dev', '--timeout=60s'], { check: true });
    await plane.kubectl(['create', 'namespace', NAMESPACE], { check: true });
    await poll(async () => ((await plane!.kubectl(['get', 'serviceaccount', 'default', '-n', NAMESPACE])).code === 0 ? true : undefined), {
      what: `ServiceAccount ${NAMESPACE}/default`,
      timeoutMs: 60_000,
    });
    operator = await startOperatorProcess({ logPath: join(work, 'operator.log'), kubeconfig: plane.kubeconfigPath, podAddressMap: join(work, 'pod-addresses.json') });
  });

  after(async function () {
    this.timeout(120_000);
    await Promise.all(servingPods.map((pods) => pods.stop()));
    await operator?.process.stop();
    await plane?.stop();
    await s3?.stop();
    if (work && !process.env['TFMODEL_E2E_KEEP_DIR']) rmSync(work, { recursive: true, force: true });
  });

  function tfmodel(name: string, spec: Record<string, unknown>): TFModel {
    return { apiVersion: 'serving.tfmodel.dev/v1alpha1', kind: 'TFModel', metadata: { name, namespace: NAMESPACE }, spec: { tolerations: [KWOK_TOLERATION], ...spec } as TFModel['spec'] };
  }

  const apply = (object: object) => plane!.kubectl(['apply', '-f', '-'], { input: JSON.stringify(object) });

  async function upload(prefix: string, dir: string): Promise<void> {
    for (const name of filesOf(dir)) await s3!.put('models', `${prefix}/${name}`, readFileSync(join(dir, name)));
  }

  it('the CRD accepts s3:// and gs:// basePaths with spec.storage, and refuses malformed URLs and storage on a local path', async () => {
    const accepted: Array<[string, Record<string, unknown>]> = [
      ['ok-s3', { basePath: 's3://models/prod/iris', storage: { secretName: 'creds', cacheSizeLimit: '2Gi', endpoint: 'http://minio.store:9000' } }],
      ['ok-gs', { basePath: 'gs://my-bucket.example.com/iris', storage: { secretName: 'gcs-key' } }],
      ['ok-bucket-root', { basePath: 's3://models' }],
      ['ok-az', { basePath: 'az://tfmodelacct/models/prod/iris', storage: { secretName: 'az-creds', endpoint: 'http://azurite.store:10000/tfmodelacct' } }],
      ['ok-https', { basePath: `https://models.example.com:8443/iris/iris.tar.gz?sig=x#sha256=${'a'.repeat(64)}`, storage: { cacheSizeLimit: '1Gi' } }],
      ['ok-http-zip', { basePath: 'http://archive.store/iris/3.zip' }],
    ];
    for (const [name, spec] of accepted) {
      const result = await apply(tfmodel(name, spec));
      assert.equal(result.code, 0, `${name}: ${result.stderr}`);
      await plane!.kubectl(['delete', 'tfmodel', name, '-n', NAMESPACE, '--wait=false'], { check: true });
    }
    const refused: Array<[string, Record<string, unknown>, RegExp]> = [
      ['upper-bucket', { basePath: 's3://Models/iris' }, /basePath must be an absolute path, pvc:\/\/<claim>\/<path>, s3:\/\/<bucket>\/<prefix>, gs:\/\/<bucket>\/<prefix>, az:\/\/<account>\/<container>\/<prefix>/],
      ['no-bucket', { basePath: 'gs:///iris' }, /basePath must be/],
      ['https-dir', { basePath: 'https://example.com/iris/' }, /basePath must be/],
      ['az-short-container', { basePath: 'az://tfmodelacct/m/iris' }, /basePath must be/],
      ['https-secret', { basePath: 'https://example.com/iris.tar.gz', storage: { secretName: 'creds' } }, /takes only storage.cacheSizeLimit/],
      ['escape', { basePath: 's3://models/../other' }, /'\.\.' segments/],
      ['storage-local', { basePath: '/models/iris', storage: { secretName: 'creds' } }, /storage applies only to an s3:\/\/, gs:\/\/, az:\/\/ or https:\/\/ basePath/],
      ['bad-size', { basePath: 's3://models/iris', storage: { cacheSizeLimit: '10GB' } }, /cacheSizeLimit/],
      ['cache-flag', { basePath: 's3://models/iris', serverArgs: ['--model_cache_dir=/tmp/x'] }, /serverArgs/],
    ];
    for (const [name, spec, message] of refused) {
      const result = await apply(tfmodel(name, spec));
      assert.notEqual(result.code, 0, `${name} was accepted`);
      assert.match(result.stderr, message, `${name}: ${result.stderr}`);
    }
  });

  it('serves a TFModel on s3:// with credentials from a Secret; a version uploaded to the bucket hot-loads and a label patch promotes it with no failed request', async function () {
    this.timeout(240_000);
    // Version 1 = half_plus_two (uploaded under half/1/).
    await upload('half/1', join(HALF_PLUS_TWO_BASE, '00000123'));
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'store-creds', namespace: NAMESPACE },
      stringData: { AWS_ACCESS_KEY_ID: S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY, AWS_REGION: 'us-east-1', S3_ENDPOINT: `127.0.0.1:${s3!.port}`, S3_USE_HTTPS: '0' },
    };
    assert.equal((await apply(secret)).code, 0);
    const applied = await apply(tfmodel('half', { modelName: 'half', basePath: 's3://models/half', storage: { secretName: 'store-creds', cacheSizeLimit: '1Gi' }, versionPolicy: { latest: { numVersions: 2 } }, versionLabels: { stable: 1 } }));
    assert.equal(applied.code, 0, applied.stderr);
    const pods = new ServingPods({ plane: plane!, namespace: NAMESPACE, tfmodel: 'half', dir: join(work, 'pods', 'half'), addressMapPath: join(work, 'pod-addresses.json') });
    servingPods.push(pods);
    pods.start();

    const get = async <T>(kind: string, name: string): Promise<T> => JSON.parse((await plane!.kubectl(['get', kind, name, '-n', NAMESPACE, '-o', 'json'], { check: true })).stdout) as T;
    const model = await poll(
      async () => {
        const m = await get<TFModel>('tfmodel', 'half');
        if (m.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && m.status.versions?.some((v) => v.version === 1 && v.state === 'AVAILABLE') && m.status.labels?.some((l) => l.label === 'stable' && l.state === 'Served' && l.servedVersion === 1)) return m;
        throw new Error(`${JSON.stringify(m.status ?? null)} ${pods.error ?? ''}`);
      },
      { what: 'TFModel half Ready, version 1 AVAILABLE, stable served on it', timeoutMs: 180_000, intervalMs: 250, process: operator?.process },
    );
    assert.deepEqual(model.status!.versions, [{ version: 1, state: 'AVAILABLE', readyReplicas: 1 }]);
    // No credential reaches the TFModel's status, the Deployment or the operator's log.
    const deployment = await get<V1Deployment>('deployment', 'half-server');
    const texts = [JSON.stringify(model), JSON.stringify(deployment), readFileSync(join(work, 'operator.log'), 'utf8')];
    for (const text of texts) assert.equal(text.includes(S3_SECRET_KEY) || text.includes(S3_ACCESS_KEY), false);
    assert.equal(deployment.spec!.template.spec!.volumes!.some((v) => v.persistentVolumeClaim), false);

    const predict = async (path: string): Promise<number> => {
      const pod = [...pods.pods.values()][0]!;
      const response = await fetch(`http://127.0.0.1:${pod.restPort}/v1/models/half${path}:predict`, { method: 'POST', body: '{"instances":[1.0]}' });
      const body = (await response.json()) as { predictions?: number[]; error?: string };
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body.error}`);
      return body.predictions![0]!;
    };
    assert.equal(await predict(''), 2.5);
    assert.equal(await predict('/labels/stable'), 2.5);

    // Version 2 = half_plus_three, uploaded to the bucket: the pod loads it with no restart.
    const server = [...pods.pods.values()][0]!;
    await upload('half/2', join(HALF_PLUS_THREE_BASE, '00000123'));
    await poll(
      async () => {
        const m = await get<TFModel>('tfmodel', 'half');
        if (m.status?.versions?.some((v) => v.version === 2 && v.state === 'AVAILABLE')) return true;
        throw new Error(JSON.stringify(m.status?.versions ?? null));
      },
      { what: 'status shows version 2 AVAILABLE', timeoutMs: 120_000, intervalMs: 250 },
    );
    assert.equal([...pods.pods.values()][0], server, 'the pod was not restarted');
    assert.equal(await predict('/versions/2'), 3.5);
    assert.equal(await predict('/labels/stable'), 2.5, 'stable stays on version 1 until patched');

    // kubectl patch moves stable to 2 while a client keeps asking through the label.
    const answers: number[] = [];
    const failures: string[] = [];
    let running = true;
    const client = (async () => {
      while (running) {
        try {
          answers.push(await predict('/labels/stable'));
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    })();
    await plane!.kubectl(['patch', 'tfmodel', 'half', '-n', NAMESPACE, '--type=merge', '-p', JSON.stringify({ spec: { versionLabels: { stable: 2 } } })], { check: true });
    await poll(
      async () => {
        const m = await get<TFModel>('tfmodel', 'half');
        if (m.status?.labels?.some((l) => l.label === 'stable' && l.state === 'Served' && l.servedVersion === 2)) return true;
        throw new Error(JSON.stringify(m.status?.labels ?? null));
      },
      { what: 'stable served on version 2', timeoutMs: 60_000, intervalMs: 250, process: operator?.process },
    );
    await poll(async () => (answers.at(-1) === 3.5 ? true : undefined), { what: 'the client sees version 2 through stable', timeoutMs: 30_000 });
    running = false;
    await client;
    assert.deepEqual(failures, []);
    const switched = answers.indexOf(3.5);
    assert.ok(switched > 0, 'stable answered version 1 first');
    assert.deepEqual([...new Set(answers.slice(0, switched))], [2.5]);
    assert.deepEqual([...new Set(answers.slice(switched))], [3.5], 'one switch, never back');
  });
});
