/**
 * The operator's serving-pod client against the real tfmodel-server: reading versions and labels
 * back, pushing a config with HandleReloadConfigRequest, and the refusals the server makes.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSpec } from '../../src/operator/api/tfmodel.js';
import { ADMIN_TOKEN_KEY, adminCredentials, desiredAdminTokenSecret } from '../../src/operator/render/admin-token.js';
import { routingBody } from '../../src/operator/rollout/rollout-driver.js';
import { servedModel } from '../../src/operator/render/owned-objects.js';
import { modelConfigText } from '../../src/operator/render/server-config.js';
import type { PodAddress } from '../../src/operator/serving-client/pod-address.js';
import { TfmodelServerClient } from '../../src/operator/serving-client/serving-client.js';
import { tfmodel } from '../../src/operator/test-support.js';
import { freePorts } from '../e2e/harness/processes.js';
import { servingTestModels } from '../support/test-models.js';
import { ServerProcess } from '../support/server-process.js';

const MODELS = servingTestModels();
const HALF_PLUS_TWO = join(MODELS.halfPlusTwo, '00000123');
const HALF_PLUS_THREE = join(MODELS.halfPlusThree, '00000123');

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('operator serving client against tfmodel-server', function () {
  this.timeout(60_000);
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-operator-client-'));
  const base = join(root, 'iris');
  const client = new TfmodelServerClient({ timeoutMs: 2000 });
  let server: ServerProcess;
  let address: PodAddress;
  const model = tfmodel({ basePath: base, versionPolicy: { specific: { versions: [1, 2] } } });
  const spec = resolveSpec(model);

  before(async () => {
    cpSync(HALF_PLUS_TWO, join(base, '1'), { recursive: true });
    cpSync(HALF_PLUS_THREE, join(base, '2'), { recursive: true });
    const configFile = join(root, 'model.config');
    writeFileSync(configFile, modelConfigText(servedModel(spec, { labels: new Map(), extraVersions: [] })));
    const [restPort] = await freePorts(1);
    server = ServerProcess.start([`--rest_api_port=${restPort}`, `--model_config_file=${configFile}`, '--file_system_poll_wait_seconds=1']);
    const ports = await server.ports();
    address = { host: '127.0.0.1', restPort: ports.rest!, grpcPort: ports.grpc };
  });
  after(async () => {
    client.close();
    await server?.stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('reads each version state as the pod reports it', async () => {
    const report = await eventually(() => client.report(address, 'pod-a', 'iris'),
      (r) => r.kind === 'serving' && r.versions.filter((v) => v.state === 'AVAILABLE').length === 2, 'both versions AVAILABLE');
    assert.equal(report.kind, 'serving');
    if (report.kind !== 'serving') return;
    assert.deepEqual(report.versions.map((v) => [v.version, v.state]).sort(), [[1, 'AVAILABLE'], [2, 'AVAILABLE']]);
    assert.equal(report.labels.size, 0);
  });

  it('pushes labels that the server then serves, and reads them back', async () => {
    await client.pushConfig(address, servedModel(spec, { labels: new Map([['stable', 1], ['test', 2]]), extraVersions: [] }));
    const report = await client.report(address, 'pod-a', 'iris');
    assert.equal(report.kind, 'serving');
    if (report.kind !== 'serving') return;
    assert.deepEqual(Object.fromEntries(report.labels), { stable: 1, test: 2 });
    const predict = await fetch(`http://127.0.0.1:${address.restPort}/v1/models/iris/labels/test:predict`, { method: 'POST', body: '{"instances":[[2.0]]}' });
    assert.deepEqual(await predict.json(), { predictions: [[4]] }, 'test -> version 2, half_plus_three');
  });

  it('surfaces the server refusing a config (label to a version it has not loaded)', async () => {
    await assert.rejects(
      client.pushConfig(address, servedModel(spec, { labels: new Map([['stable', 9]]), extraVersions: [] })),
      /not currently available|version 9/,
    );
    const report = await client.report(address, 'pod-a', 'iris');
    assert.ok(report.kind === 'serving' && report.labels.get('stable') === 1, 'the previous config keeps serving');
  });

  it('tells a model the server does not serve from a server it cannot reach', async () => {
    assert.deepEqual(await client.report(address, 'pod-a', 'other'), { pod: 'pod-a', kind: 'model-missing' });
    const unreachable = await client.report({ host: '127.0.0.1', restPort: 1, grpcPort: 1 }, 'pod-x', 'iris');
    assert.equal(unreachable.kind, 'unreachable');
  });
});

describe('operator serving client against a tfmodel-server with --admin_token_file (issue 7 item 8)', function () {
  this.timeout(60_000);
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-operator-admin-'));
  const base = join(root, 'iris');
  const client = new TfmodelServerClient({ timeoutMs: 2000 });
  const model = tfmodel({ basePath: base, versionPolicy: { specific: { versions: [1, 2] } } });
  const spec = resolveSpec(model);
  const credentials = adminCredentials(Buffer.alloc(32, 5), model);
  let server: ServerProcess;
  let address: PodAddress;

  before(async () => {
    cpSync(HALF_PLUS_TWO, join(base, '1'), { recursive: true });
    cpSync(HALF_PLUS_THREE, join(base, '2'), { recursive: true });
    const configFile = join(root, 'model.config');
    writeFileSync(configFile, modelConfigText(servedModel(spec, { labels: new Map(), extraVersions: [] })));
    // The file the Secret volume holds: the rendered Secret's data, decoded as the kubelet does.
    const tokenFile = join(root, ADMIN_TOKEN_KEY);
    writeFileSync(tokenFile, Buffer.from(desiredAdminTokenSecret(model, credentials).data![ADMIN_TOKEN_KEY]!, 'base64'));
    const [restPort] = await freePorts(1);
    server = ServerProcess.start([`--rest_api_port=${restPort}`, `--model_config_file=${configFile}`, `--admin_token_file=${tokenFile}`]);
    const ports = await server.ports();
    address = { host: '127.0.0.1', restPort: ports.rest!, grpcPort: ports.grpc };
    await eventually(() => client.report(address, 'pod-a', 'iris'), (r) => r.kind === 'serving' && r.versions.filter((v) => v.state === 'AVAILABLE').length === 2, 'both versions AVAILABLE');
  });
  after(async () => {
    client.close();
    await server?.stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses a config push without the token (UNAUTHENTICATED) or with another TFModel\'s (PERMISSION_DENIED), and takes it with the token', async () => {
    const config = servedModel(spec, { labels: new Map([['stable', 2]]), extraVersions: [] });
    await assert.rejects(client.pushConfig(address, config), /UNAUTHENTICATED.*requires the admin token/);
    const other = adminCredentials(Buffer.alloc(32, 5), tfmodel({ basePath: base }, { uid: 'uid-other' }));
    await assert.rejects(client.pushConfig(address, config, other.token), /PERMISSION_DENIED/);
    const before = await client.report(address, 'pod-a', 'iris');
    assert.ok(before.kind === 'serving' && before.labels.size === 0, 'a refused push changes nothing');
    await client.pushConfig(address, config, credentials.token);
    const after = await client.report(address, 'pod-a', 'iris');
    assert.ok(after.kind === 'serving' && after.labels.get('stable') === 2);
  });

  it('refuses a routing push without the token (HTTP 401) and takes it with the token', async () => {
    await assert.rejects(client.pushRouting(address, routingBody('iris', undefined)), /HTTP 401/);
    await client.pushRouting(address, routingBody('iris', undefined), credentials.token);
  });
});
