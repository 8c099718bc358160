import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminToken } from '../../server/admin-token.js';
import { parseServerFlags } from '../../server/config/flags.js';
import { Code, ServingError } from '../../server/errors.js';
import { resolveSpec } from '../api/tfmodel.js';
import { tfmodel } from '../test-support.js';
import { ADMIN_TOKEN_DIR, ADMIN_TOKEN_FILE, ADMIN_TOKEN_KEY, adminCredentials, adminKeyId, desiredAdminTokenSecret } from './admin-token.js';
import { desiredDeployment } from './owned-objects.js';

const RENDER = { serverImage: 'example.com/tfmodel-server:1', serverGpuImage: 'example.com/tfmodel-server-gpu:1' };
const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);

describe('operator render: admin token (issue 7 item 8)', () => {
  it('derives one token per TFModel UID and key: stable across calls, different for another UID or key', () => {
    const model = tfmodel();
    const first = adminCredentials(KEY, model);
    assert.deepEqual(adminCredentials(KEY, tfmodel()), first, 'the same key and UID give the same token (an operator restart finds it again)');
    assert.ok(first.token.length >= 40, 'a 256-bit HMAC');
    assert.notEqual(adminCredentials(KEY, tfmodel({}, { uid: 'uid-other' })).token, first.token, 'a TFModel re-created under the same name gets another token');
    const rekeyed = adminCredentials(OTHER_KEY, model);
    assert.notEqual(rekeyed.token, first.token);
    assert.notEqual(rekeyed.secretName, first.secretName, 'a new key means a new Secret (and pods restarted with it)');
    assert.equal(first.secretName, `iris-server-admin-${adminKeyId(KEY)}`);
    assert.doesNotMatch(first.secretName, new RegExp(KEY.toString('hex').slice(0, 10)), 'the name shows a hash of the key, not the key');
  });

  it('refuses a short key and a TFModel without a UID', () => {
    assert.throws(() => adminCredentials(Buffer.alloc(16), tfmodel()), /at least 32 are needed/);
    assert.throws(() => adminCredentials(KEY, tfmodel({}, { uid: undefined })), /has no uid/);
  });

  it('renders the token Secret owned by the TFModel, immutable, holding the token under one key', () => {
    const model = tfmodel();
    const credentials = adminCredentials(KEY, model);
    const secret = desiredAdminTokenSecret(model, credentials);
    assert.equal(secret.kind, 'Secret');
    assert.equal(secret.metadata!.name, credentials.secretName);
    assert.equal(secret.metadata!.namespace, 'ml');
    assert.deepEqual(secret.metadata!.ownerReferences, [{ apiVersion: 'serving.tfmodel.dev/v1alpha1', kind: 'TFModel', name: 'iris', uid: 'uid-iris', controller: true, blockOwnerDeletion: true }]);
    assert.equal(secret.metadata!.labels!['app.kubernetes.io/managed-by'], 'tfmodel-operator');
    assert.equal(secret.immutable, true);
    assert.deepEqual(Object.keys(secret.data!), [ADMIN_TOKEN_KEY]);
    assert.equal(Buffer.from(secret.data![ADMIN_TOKEN_KEY]!, 'base64').toString('utf8'), credentials.token);
  });

  it('mounts the Secret read-only into the serving container and passes --admin_token_file, which the server parses', () => {
    const model = tfmodel();
    const { secretName, token } = adminCredentials(KEY, model);
    const deployment = desiredDeployment(model, resolveSpec(model), RENDER, secretName);
    const pod = deployment.spec!.template.spec!;
    const container = pod.containers[0]!;
    assert.ok(container.args!.includes(`--admin_token_file=${ADMIN_TOKEN_FILE}`));
    const parsed = parseServerFlags(container.args!);
    assert.equal(parsed.kind === 'serve' ? parsed.flags.adminTokenFile : undefined, ADMIN_TOKEN_FILE);
    const volume = pod.volumes!.find((v) => v.secret?.secretName === secretName)!;
    assert.deepEqual(volume.secret!.items, [{ key: ADMIN_TOKEN_KEY, path: ADMIN_TOKEN_KEY }]);
    assert.equal(volume.secret!.defaultMode, 0o440);
    assert.equal(pod.securityContext!.fsGroup, 1000, 'the server (uid/gid 1000) reads the 0440 file through the fsGroup');
    const mount = container.volumeMounts!.find((m) => m.name === volume.name)!;
    assert.equal(mount.mountPath, ADMIN_TOKEN_DIR);
    assert.equal(mount.readOnly, true);
    assert.equal(JSON.stringify(deployment).includes(token), false, 'the Deployment names the Secret; it never holds the token');
  });

  it('leaves the pod open (TF Serving\'s behaviour) when no Secret is given', () => {
    const model = tfmodel();
    const pod = desiredDeployment(model, resolveSpec(model), RENDER).spec!.template.spec!;
    assert.equal(pod.containers[0]!.args!.some((a) => a.startsWith('--admin_token_file')), false);
    assert.equal(pod.volumes!.some((v) => v.secret !== undefined), false);
  });

  it('the server accepts exactly the token the Secret holds, read from the mounted file', async () => {
    const model = tfmodel();
    const credentials = adminCredentials(KEY, model);
    const dir = mkdtempSync(join(tmpdir(), 'tfmodel-admin-'));
    try {
      // What the kubelet writes into the volume: the Secret's data, decoded.
      writeFileSync(join(dir, ADMIN_TOKEN_KEY), Buffer.from(desiredAdminTokenSecret(model, credentials).data![ADMIN_TOKEN_KEY]!, 'base64'));
      const server = await AdminToken.fromFile(join(dir, ADMIN_TOKEN_KEY));
      server.check(`Bearer ${credentials.token}`, 'HandleReloadConfigRequest');
      const other = adminCredentials(KEY, tfmodel({}, { uid: 'uid-other' }));
      assert.throws(() => server.check(`Bearer ${other.token}`, 'HandleReloadConfigRequest'), (e: unknown) => e instanceof ServingError && e.code === Code.PERMISSION_DENIED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
