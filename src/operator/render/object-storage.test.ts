/**
 * s3://, gs://, az:// and https:// archive basePaths in the rendered objects: the URL reaches the server's model.config,
 * the Secret's keys reach the container only as optional references (never values), the download
 * cache is a bounded emptyDir at --model_cache_dir beside the read-only root filesystem, and no
 * model volume is mounted.
 */
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import { modelConfigListOf, parseModelServerConfig } from '../../server/config/model-config.js';
import { parseServerFlags } from '../../server/config/flags.js';
import { InvalidSpecError, MODEL_CACHE_PATH, type TFModelSpec, quantityBytes, resolveSpec } from '../api/tfmodel.js';
import { tfmodel } from '../test-support.js';
import { AZURE_SECRET_KEYS, GCS_KEY_FILE, MODEL_CONFIG_FILE, STORAGE_CREDENTIALS_DIR, STORAGE_SECRET_KEYS, desiredConfigMap, desiredDeployment } from './owned-objects.js';

const RENDER = { serverImage: 'example.com/tfmodel-server:1', serverGpuImage: 'example.com/tfmodel-server-gpu:1' };

function render(spec: Partial<TFModelSpec>): { deployment: V1Deployment; modelConfigText: string } {
  const model = tfmodel(spec);
  const resolved = resolveSpec(model);
  return {
    deployment: desiredDeployment(model, resolved, RENDER),
    modelConfigText: desiredConfigMap(model, resolved, { labels: new Map(), extraVersions: [] }).data![MODEL_CONFIG_FILE]!,
  };
}

const podOf = (d: V1Deployment) => d.spec!.template.spec!;

describe('operator render: object-storage basePaths', () => {
  it('passes s3://, gs:// and az:// URLs (trailing slash dropped) and https:// archive URLs (as written) to the server as its base path', () => {
    for (const url of ['s3://models/prod/iris', 'gs://my-bucket.example.com/iris', 'az://tfmodelacct/models/prod/iris']) {
      const { modelConfigText } = render({ basePath: `${url}/`, storage: { secretName: 'creds' } });
      const [config] = modelConfigListOf(parseModelServerConfig(modelConfigText)).config;
      assert.equal(config!.basePath, url);
    }
    const archive = 'https://models.example.com:8443/iris/iris.tar.gz?sig=abc#sha256=' + 'a'.repeat(64);
    const { modelConfigText } = render({ basePath: archive, storage: { cacheSizeLimit: '1Gi' } });
    assert.equal(modelConfigListOf(parseModelServerConfig(modelConfigText)).config[0]!.basePath, archive);
  });

  it('for az:// maps the Azure Secret keys as optional secretKeyRefs, and the spec\'s endpoint to AZURE_STORAGE_BLOB_ENDPOINT', () => {
    const env = podOf(render({ basePath: 'az://tfmodelacct/models/iris', storage: { secretName: 'az-creds' } }).deployment).containers[0]!.env!;
    assert.deepEqual(env.map((e) => e.name).sort(), [...AZURE_SECRET_KEYS].sort());
    for (const e of env) assert.deepEqual(e.valueFrom, { secretKeyRef: { name: 'az-creds', key: e.name, optional: true } });
    assert.ok(AZURE_SECRET_KEYS.includes('AZURE_STORAGE_CONNECTION_STRING') && AZURE_SECRET_KEYS.includes('AZURE_STORAGE_KEY'));
    const endpoint = 'http://azurite.store:10000/tfmodelacct';
    const withEndpoint = podOf(render({ basePath: 'az://tfmodelacct/models/iris', storage: { secretName: 'c', endpoint } }).deployment).containers[0]!.env!;
    assert.deepEqual(withEndpoint.filter((e) => e.name === 'AZURE_STORAGE_BLOB_ENDPOINT'), [{ name: 'AZURE_STORAGE_BLOB_ENDPOINT', value: endpoint }]);
    assert.equal(withEndpoint.length, AZURE_SECRET_KEYS.length);
  });

  it('gives an https:// archive the cache emptyDir and no credentials', () => {
    const pod = podOf(render({ basePath: 'https://models.example.com/iris/3.zip', storage: { cacheSizeLimit: '3Gi' } }).deployment);
    assert.deepEqual(pod.containers[0]!.env, []);
    assert.equal(pod.volumes!.some((v) => v.secret || v.persistentVolumeClaim), false);
    const mount = pod.containers[0]!.volumeMounts!.find((m) => m.mountPath === MODEL_CACHE_PATH)!;
    assert.deepEqual(pod.volumes!.find((v) => v.name === mount.name)?.emptyDir, { sizeLimit: '3Gi' });
  });

  it('maps the Secret\'s keys to TF Serving\'s environment variables as optional secretKeyRefs, never values', () => {
    const { deployment } = render({ basePath: 's3://models/iris', storage: { secretName: 'store-creds' } });
    const env = podOf(deployment).containers[0]!.env!;
    assert.deepEqual(env.map((e) => e.name).sort(), [...STORAGE_SECRET_KEYS].sort());
    for (const e of env) {
      assert.equal(e.value, undefined, `${e.name} has a literal value`);
      assert.deepEqual(e.valueFrom, { secretKeyRef: { name: 'store-creds', key: e.name, optional: true } });
    }
    assert.ok(STORAGE_SECRET_KEYS.includes('AWS_ACCESS_KEY_ID') && STORAGE_SECRET_KEYS.includes('S3_VERIFY_SSL'));
  });

  it('takes the endpoint from the spec as a literal that overrides the Secret\'s key (S3_ENDPOINT / STORAGE_EMULATOR_HOST)', () => {
    const s3 = podOf(render({ basePath: 's3://models/iris', storage: { secretName: 'c', endpoint: 'http://minio.store:9000' } }).deployment).containers[0]!.env!;
    assert.deepEqual(s3.filter((e) => e.name === 'S3_ENDPOINT'), [{ name: 'S3_ENDPOINT', value: 'http://minio.store:9000' }]);
    const gs = podOf(render({ basePath: 'gs://models/iris', storage: { endpoint: 'fake-gcs:4443' } }).deployment).containers[0]!.env!;
    assert.deepEqual(gs, [{ name: 'STORAGE_EMULATOR_HOST', value: 'fake-gcs:4443' }]);
  });

  it('without a Secret sets no credentials (the SDKs\' default chains: instance metadata, workload identity)', () => {
    const pod = podOf(render({ basePath: 's3://models/iris' }).deployment);
    assert.deepEqual(pod.containers[0]!.env, []);
    assert.equal(pod.volumes!.some((v) => v.secret), false);
  });

  it('for gs:// mounts the Secret\'s service-account key file read-only and points GOOGLE_APPLICATION_CREDENTIALS at it', () => {
    const pod = podOf(render({ basePath: 'gs://models/iris', storage: { secretName: 'gcs-key' } }).deployment);
    const container = pod.containers[0]!;
    const volume = pod.volumes!.find((v) => v.secret)!;
    assert.deepEqual(volume.secret, { secretName: 'gcs-key', items: [{ key: GCS_KEY_FILE, path: GCS_KEY_FILE }], defaultMode: 0o440, optional: true });
    const mount = container.volumeMounts!.find((m) => m.name === volume.name)!;
    assert.equal(mount.readOnly, true);
    assert.equal(mount.mountPath, STORAGE_CREDENTIALS_DIR);
    assert.equal(container.env!.find((e) => e.name === 'GOOGLE_APPLICATION_CREDENTIALS')?.value, `${STORAGE_CREDENTIALS_DIR}/${GCS_KEY_FILE}`);
    // The rest of the Secret's keys are references too (STORAGE_EMULATOR_HOST among them).
    assert.ok(container.env!.filter((e) => e.name !== 'GOOGLE_APPLICATION_CREDENTIALS').every((e) => e.valueFrom?.secretKeyRef?.optional === true));
  });

  it('mounts a writable emptyDir cache of cacheSizeLimit at --model_cache_dir, bounds the server\'s cache under it, and keeps the root filesystem read-only', () => {
    const { deployment } = render({ basePath: 's3://models/iris', storage: { secretName: 'c', cacheSizeLimit: '2Gi' } });
    const pod = podOf(deployment);
    const container = pod.containers[0]!;
    const parsed = parseServerFlags(container.args!);
    assert.equal(parsed.kind, 'serve');
    if (parsed.kind !== 'serve') return;
    assert.equal(parsed.flags.modelCacheDir, MODEL_CACHE_PATH);
    assert.equal(parsed.flags.modelCacheMaxBytes, Math.floor(2 * 2 ** 30 * 0.9));
    const mount = container.volumeMounts!.find((m) => m.mountPath === MODEL_CACHE_PATH)!;
    assert.notEqual(mount.readOnly, true);
    assert.deepEqual(pod.volumes!.find((v) => v.name === mount.name)?.emptyDir, { sizeLimit: '2Gi' });
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
    // The default size.
    const defaults = podOf(render({ basePath: 'gs://models/iris' }).deployment);
    assert.deepEqual(defaults.volumes!.find((v) => v.name === mount.name)?.emptyDir, { sizeLimit: '10Gi' });
  });

  it('mounts no model volume (no PVC) for an object-store base path, and no cache for a local one', () => {
    const pod = podOf(render({ basePath: 's3://models/iris', storage: { secretName: 'c' } }).deployment);
    assert.equal(pod.volumes!.some((v) => v.persistentVolumeClaim), false);
    assert.equal(pod.containers[0]!.volumeMounts!.some((m) => m.mountPath === '/mnt/models'), false);
    const local = podOf(render({ basePath: 'pvc://store/iris' }).deployment);
    assert.equal(local.volumes!.some((v) => v.name === 'model-cache'), false);
    assert.equal(local.containers[0]!.env, undefined);
    assert.equal(local.containers[0]!.args!.some((a) => a.startsWith('--model_cache')), false);
  });

  it('refuses (as the CRD does) storage on a local path, bad bucket names and bad cache sizes', () => {
    const refused: Array<[Partial<TFModelSpec>, RegExp]> = [
      [{ basePath: '/models/iris', storage: { secretName: 'c' } }, /storage applies only/],
      [{ basePath: 's3://Upper/iris' }, /absolute path, pvc/],
      [{ basePath: 's3://under_score/iris' }, /not an S3 bucket name/],
      [{ basePath: 's3://models/../etc' }, /'\.\.' segments/],
      [{ basePath: 'https://example.com/models/' }, /absolute path, pvc/],
      [{ basePath: 'https://example.com/m.rar' }, /absolute path, pvc/],
      [{ basePath: 'https://example.com/m.tar.gz', storage: { secretName: 'c' } }, /takes only storage.cacheSizeLimit/],
      [{ basePath: 'az://Acct/models/iris' }, /absolute path, pvc/],
      [{ basePath: 'az://acct/m/iris' }, /absolute path, pvc/],
      [{ basePath: 'az://tfmodelacct' }, /absolute path, pvc/],
      [{ basePath: 'gs://models/iris', storage: { cacheSizeLimit: 'lots' } }, /cacheSizeLimit/],
    ];
    for (const [spec, message] of refused) {
      assert.throws(() => resolveSpec(tfmodel(spec)), (e: unknown) => e instanceof InvalidSpecError && message.test(e.message), JSON.stringify(spec));
    }
  });

  it('reads Kubernetes quantities in bytes', () => {
    assert.equal(quantityBytes('10Gi'), 10 * 2 ** 30);
    assert.equal(quantityBytes('500M'), 5e8);
    assert.equal(quantityBytes('1.5Ki'), 1536);
    assert.equal(quantityBytes('1024'), 1024);
    assert.equal(quantityBytes('10gb'), undefined);
  });
});
