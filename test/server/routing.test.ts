/**
 * Weighted, sticky label routing on a real server: the model manager with real SavedModels whose
 * versions answer differently (1: y = 0.5x + 2, 2: y = 0.5x + 3), behind the REST and gRPC
 * transports; gRPC called with TF Serving's own Python client (tensorflow-serving-api), passing
 * the request key as call metadata. Then the --routing_config_file flag on the real binary.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HALF_PLUS_THREE_BASE, HALF_PLUS_TWO } from '../support/test-models.js';
import { oraclePython } from '../support/tf-oracle.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { firstPrediction, metricSample as sample, mixedVersionsBase, restJson, restPredictX, runPythonClient } from '../support/routing-fixtures.js';
import { modelConfigListOf, parseModelServerConfig } from '../../src/server/config/model-config.js';
import { ModelManager } from '../../src/server/core/model-manager.js';
import { savedModelLoader } from '../../src/server/core/version-loader.js';
import { RoutedCore } from '../../src/server/api/routed-core.js';
import { routingAdmin } from '../../src/server/routing/routing-admin.js';
import { parseRoutingConfig } from '../../src/server/routing/routing-config.js';
import { ShadowRunner } from '../../src/server/routing/shadow-runner.js';
import { ServingMetrics } from '../../src/server/metrics/index.js';
import { memoryLogger } from '../../src/server/logging.js';
import { NO_OBSERVER, type RequestEvent, type ShadowEvent } from '../../src/server/observability.js';
import type { ServableHandle } from '../../src/server/core/types.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import type { HostTensor } from '../../src/server/runtime/tensor/host-tensor.js';
import { type GrpcServer, createGrpcServer } from '../../src/server/transports/grpc/index.js';
import { type RestServer, createRestServer } from '../../src/server/transports/rest/index.js';

const HALF_PLUS_THREE = join(HALF_PLUS_THREE_BASE, '00000123');
/** y for x = 1 by version. */
const ANSWER: Record<string, number> = { '1': 2.5, '2': 3.5 };
const ROUTING = { models: { m: { default_label: 'stable', labels: { stable: { canaries: [{ version: 2, percent: 30 }] } } } } };

const modelConfig = (base: string): string =>
  `model_config_list { config { name: "m" base_path: "${base}" model_platform: "tensorflow" ` +
  'model_version_policy { specific { versions: 1 versions: 2 } } version_labels { key: "stable" value: 1 } } }';

describe('weighted label routing (REST, and gRPC with the TF Serving Python client)', function () {
  this.timeout(120_000);
  const python = oraclePython();
  const events: RequestEvent[] = [];
  let root: string;
  let manager: ModelManager;
  let core: RoutedCore;
  let rest: RestServer;
  let grpc: GrpcServer;
  let restPort: number;
  let grpcPort: number;
  /** Which version each key reached over REST through /labels/stable. */
  const restVersions = new Map<string, string>();
  const keys = Array.from({ length: 120 }, (_, i) => `caller-${i}`);

  before(async function () {
    root = mkdtempSync(join(tmpdir(), 'tfmodel-routing-'));
    const base = mixedVersionsBase(root, 'm', [[1, HALF_PLUS_TWO], [2, HALF_PLUS_THREE]]);
    manager = new ModelManager({
      loader: savedModelLoader({ runtime: 'wasm', threads: 0 }),
      log: memoryLogger(),
      fileSystemPollMs: 0,
      maxLoadRetries: 0,
      loadRetryIntervalMs: 1,
      allowLabelsForUnavailable: false,
    });
    await manager.start(modelConfigListOf(parseModelServerConfig(modelConfig(base))));
    core = new RoutedCore({ core: manager });
    const observer = { ...NO_OBSERVER, request: (event: RequestEvent) => void events.push(event) };
    rest = createRestServer({ core, observer, routing: routingAdmin(core) });
    restPort = await rest.listen(0, '127.0.0.1');
    grpc = createGrpcServer({ core, reloader: manager, observer, healthCheck: false });
    grpcPort = await grpc.listen(0, '127.0.0.1');
  });

  after(async () => {
    await Promise.all([rest?.close(), grpc?.close()]);
    await manager?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('PUT /tfmodel/routing applies a config and GET /tfmodel/routing and GET /v1/models report it', async () => {
    const put = await restJson(restPort, 'PUT', '/tfmodel/routing', ROUTING);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const expected = { request_key: 'x-request-id', default_label: 'stable', labels: { stable: { canaries: [{ version: '2', percent: 30 }] } } };
    assert.deepEqual(put.body, { models: { m: expected } });
    assert.deepEqual((await restJson(restPort, 'GET', '/tfmodel/routing')).body, { models: { m: expected } });
    const models = (await restJson(restPort, 'GET', '/v1/models')).body['models'] as Array<Record<string, unknown>>;
    assert.deepEqual(models[0]!['routing'], expected);
    assert.deepEqual(models[0]!['version_labels'], { stable: '1' });
  });

  it('REST /labels/stable splits callers by their x-request-id, each caller always reaching one version', async () => {
    for (const key of keys) {
      const answer = await restPredictX(restPort, 'm/labels/stable', 1, { 'x-request-id': key });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.ok(answer.version === '1' || answer.version === '2', `version header ${answer.version}`);
      assert.equal(firstPrediction(answer), ANSWER[answer.version], `${key}: the answer is the version the header names`);
      restVersions.set(key, answer.version);
    }
    const canary = [...restVersions.values()].filter((v) => v === '2').length;
    // 30% of 120 keys: 36 expected, binomial sd 5.
    assert.ok(canary >= 18 && canary <= 54, `canary got ${canary} of ${keys.length} callers`);
    for (const key of keys.slice(0, 40)) {
      for (let i = 0; i < 2; i++) assert.equal((await restPredictX(restPort, 'm/labels/stable', 1, { 'x-request-id': key })).version, restVersions.get(key), `${key} moved`);
    }
  });

  it('REST requests without a version follow the default label; a version in the path is never rerouted', async () => {
    for (const key of keys.slice(0, 40)) {
      assert.equal((await restPredictX(restPort, 'm', 1, { 'x-request-id': key })).version, restVersions.get(key));
      const pinned = await restPredictX(restPort, 'm/versions/1', 1, { 'x-request-id': key });
      assert.equal(pinned.version, '1');
      assert.equal(firstPrediction(pinned), 2.5);
    }
    const metadata = await fetch(`http://127.0.0.1:${restPort}/v1/models/m/labels/stable/metadata`, { headers: { 'x-request-id': keys.find((k) => restVersions.get(k) === '2')! } });
    assert.equal(metadata.status, 200);
    assert.equal(metadata.headers.get('x-tfmodel-version'), '2');
    assert.equal(((await metadata.json()) as { model_spec: { version: string } }).model_spec.version, '2');
  });

  it('gRPC version_label and unversioned Predict from the Python client: same key, same version as REST, in model_spec.version', async function () {
    if (python.skipReason) {
      console.warn(`skipping: ${python.skipReason}`);
      return this.skip();
    }
    const x = { dtype: 'float32', shape: [1, 1], values: [1] };
    const calls = keys.slice(0, 60).flatMap((key) => [
      { id: `label ${key}`, rpc: 'Predict', spec: { name: 'm', label: 'stable' }, inputs: { x }, metadata: { 'x-request-id': key } },
      { id: `default ${key}`, rpc: 'Predict', spec: { name: 'm' }, inputs: { x }, metadata: { 'x-request-id': key } },
    ]);
    calls.push({ id: 'unknown label', rpc: 'Predict', spec: { name: 'm', label: 'nope' }, inputs: { x }, metadata: { 'x-request-id': 'k' } });
    const results = new Map((await runPythonClient(python.python!, `127.0.0.1:${grpcPort}`, calls)).map((r) => [r.id, r]));
    for (const key of keys.slice(0, 60)) {
      for (const kind of ['label', 'default']) {
        const result = results.get(`${kind} ${key}`)!;
        assert.equal(result.error, undefined, JSON.stringify(result.error));
        const version = String(result.response!.model_spec.version);
        assert.equal(version, restVersions.get(key), `${kind} ${key}`);
        assert.deepEqual(result.response!.outputs!['y']!.values, [ANSWER[version]]);
      }
    }
    assert.deepEqual(results.get('unknown label')!.error, { code: 'INVALID_ARGUMENT', details: 'Unrecognized servable version label: nope' });
  });

  it('reports the version that answered to the metrics observer (REST and gRPC)', () => {
    const predicts = events.filter((e) => e.api === 'predict' && e.status === 0);
    assert.ok(predicts.some((e) => e.entrypoint === 'REST' && e.version === 2n));
    assert.ok(predicts.some((e) => e.entrypoint === 'REST' && e.version === 1n));
    if (!python.skipReason) assert.ok(predicts.some((e) => e.entrypoint === 'GRPC' && e.version === 2n));
  });

  it('refuses a routing config naming a version that is not AVAILABLE, or malformed, and keeps the running one', async () => {
    const unavailable = await restJson(restPort, 'PUT', '/tfmodel/routing', { models: { m: { labels: { stable: { canaries: [{ version: 7, percent: 10 }] } } } } });
    assert.equal(unavailable.status, 400);
    assert.deepEqual(unavailable.body, { error: 'Request to route canary traffic of label stable to version 7 of model m, which is not currently available for inference' });
    const malformed = await restJson(restPort, 'PUT', '/tfmodel/routing', '{"models": {"m": {"labels": {"stable": {"canaries": [{"version": 2, "percent": 130}]}}}}}');
    assert.equal(malformed.status, 400);
    assert.match(String(malformed.body['error']), /models\.m\.labels\.stable\.canaries\[0\]\.percent: must be a number from 0 to 100/);
    const notJson = await restJson(restPort, 'PUT', '/tfmodel/routing', '{');
    assert.equal(notJson.status, 400);
    assert.equal((await restJson(restPort, 'GET', '/tfmodel/routing')).body['models'] !== undefined, true);
    assert.equal(core.routing().models.get('m')!.labels.get('stable')!.canaries[0]!.basisPoints, 3000);
    const deleteMethod = await restJson(restPort, 'DELETE', '/tfmodel/routing');
    assert.equal(deleteMethod.status, 405);
  });

  it('an empty routing config sends every caller of the label to its primary again', async () => {
    assert.equal((await restJson(restPort, 'PUT', '/tfmodel/routing', {})).status, 200);
    for (const key of keys.filter((k) => restVersions.get(k) === '2').slice(0, 10)) {
      assert.equal((await restPredictX(restPort, 'm/labels/stable', 1, { 'x-request-id': key })).version, '1');
    }
    const models = (await restJson(restPort, 'GET', '/v1/models')).body['models'] as Array<Record<string, unknown>>;
    assert.equal(models[0]!['routing'], undefined);
  });
});

describe('tfmodel-server --routing_config_file', function () {
  this.timeout(120_000);
  let root: string;
  let server: ServerProcess | undefined;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'tfmodel-routing-file-'));
  });
  after(async () => {
    await server?.stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('routes as the file says, re-reads it on change and keeps the running routing when it turns invalid', async () => {
    const base = mixedVersionsBase(root, 'm', [[1, HALF_PLUS_TWO], [2, HALF_PLUS_THREE]]);
    const configFile = join(root, 'model.config');
    const routingFile = join(root, 'routing.json');
    writeFileSync(configFile, modelConfig(base));
    const routing = (percent: number): string => JSON.stringify({ models: { m: { request_key: 'x-user', labels: { stable: { canaries: [{ version: 2, percent }] } } } } });
    writeFileSync(routingFile, routing(0));
    server = ServerProcess.start([
      `--model_config_file=${configFile}`,
      `--routing_config_file=${routingFile}`,
      '--model_config_file_poll_wait_seconds=1',
      `--rest_api_port=${freePortSync()}`,
      '--runtime=wasm',
    ]);
    const { rest } = await server.ports();
    const version = async (key: string): Promise<string | null> => (await restPredictX(rest!, 'm/labels/stable', 1, { 'x-user': key })).version;
    for (let i = 0; i < 10; i++) assert.equal(await version(`u${i}`), '1');

    writeFileSync(routingFile, routing(100));
    await server.waitFor((e) => e.event === 'routing_file_reloaded');
    for (let i = 0; i < 10; i++) assert.equal(await version(`u${i}`), '2');

    writeFileSync(routingFile, '{"models": {"m": {"labels": {"stable": {"canaries": [{"version": 9, "percent": 5}]}}}}}');
    const rejected = await server.waitFor((e) => e.event === 'routing_reload_rejected');
    assert.match(String(rejected['error']), /^FAILED_PRECONDITION: Request to route canary traffic of label stable to version 9 of model m/);
    for (let i = 0; i < 10; i++) assert.equal(await version(`u${i}`), '2');
  });

  it('refuses to start on an invalid routing file', async () => {
    const configFile = join(root, 'model.config');
    const bad = join(root, 'bad-routing.json');
    writeFileSync(bad, '{"models": {"m": {"labels": {"stable": {"canaries": [{"version": 2}]}}}}}');
    const failing = ServerProcess.start([`--model_config_file=${configFile}`, `--routing_config_file=${bad}`, '--runtime=wasm']);
    const code = await failing.exited();
    assert.notEqual(code, 0);
    assert.ok(failing.events.some((e) => /canaries\[0\]\.percent: must be a number/.test(JSON.stringify(e))), JSON.stringify(failing.events.slice(-3)));
  });
});

describe('shadow traffic on real versions, compared in metrics', function () {
  this.timeout(120_000);
  let root: string;
  let manager: ModelManager;
  let shadows: ShadowRunner;
  let rest: RestServer;
  let restPort: number;
  const metrics = new ServingMetrics({ processMetrics: false });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'tfmodel-shadow-'));
    // 1 and 3: y = 0.5x + 2; 2: y = 0.5x + 3.
    const base = mixedVersionsBase(root, 'm', [[1, HALF_PLUS_TWO], [2, HALF_PLUS_THREE], [3, HALF_PLUS_TWO]]);
    manager = new ModelManager({
      loader: savedModelLoader({ runtime: 'wasm', threads: 0 }),
      log: memoryLogger(),
      fileSystemPollMs: 0,
      maxLoadRetries: 0,
      loadRetryIntervalMs: 1,
      allowLabelsForUnavailable: false,
    });
    await manager.start(modelConfigListOf(parseModelServerConfig(
      `model_config_list { config { name: "m" base_path: "${base}" model_platform: "tensorflow" ` +
      'model_version_policy { all {} } version_labels { key: "stable" value: 1 } version_labels { key: "twin" value: 1 } } }')));
    shadows = new ShadowRunner({ core: manager, observer: metrics, maxQueued: 1000 });
    const core = new RoutedCore({ core: manager, shadows });
    core.setRouting(parseRoutingConfig(JSON.stringify({
      models: { m: { labels: { stable: { shadow: { version: 2, percent: 100 } }, twin: { shadow: { version: 3, percent: 100 } } } } },
    })));
    rest = createRestServer({ core, observer: metrics, routing: routingAdmin(core) });
    restPort = await rest.listen(0, '127.0.0.1');
  });

  after(async () => {
    await rest?.close();
    await manager?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('copies every request to the shadow and exports the divergence per (model, primary, shadow)', async () => {
    for (let i = 0; i < 20; i++) {
      for (const label of ['stable', 'twin']) {
        const answer = await restPredictX(restPort, `m/labels/${label}`, i, { 'x-request-id': `k${i}` });
        assert.equal(answer.version, '1');
        assert.equal(firstPrediction(answer), 0.5 * i + 2, 'the caller gets the primary\'s answer');
      }
    }
    await shadows.drained();
    const text = (await metrics.render()).body;
    const diverging = { model_name: 'm', primary_version: '1', shadow_version: '2' };
    const twin = { model_name: 'm', primary_version: '1', shadow_version: '3' };
    assert.equal(sample(text, 'tfmodel_shadow_requests_total', { ...diverging, outcome: 'run' }), 20);
    assert.equal(sample(text, 'tfmodel_shadow_requests_total', { ...twin, outcome: 'run' }), 20);
    // half_plus_three - half_plus_two = 1 exactly; relative to max(|a|,|b|) it is 1/3 at x = 0.
    assert.equal(sample(text, 'tfmodel_shadow_max_abs_diff_bucket', { ...diverging, output: 'y', le: '0.1' }), 0);
    assert.equal(sample(text, 'tfmodel_shadow_max_abs_diff_bucket', { ...diverging, output: 'y', le: '1' }), 20);
    assert.equal(sample(text, 'tfmodel_shadow_max_abs_diff_sum', { ...diverging, output: 'y' }), 20);
    assert.equal(sample(text, 'tfmodel_shadow_max_rel_diff_bucket', { ...diverging, output: 'y', le: '0.1' }), 6, '1 / (0.5x + 3) <= 0.1 for x = 14..19');
    assert.equal(sample(text, 'tfmodel_shadow_max_abs_diff_bucket', { ...twin, output: 'y', le: '0' }), 20, 'identical versions do not diverge');
    assert.equal(sample(text, 'tfmodel_shadow_errors_total', { ...diverging, side: 'shadow' }), undefined);
    // Per-version request metrics count what answered the callers, not the shadow runs.
    assert.equal(sample(text, 'tfmodel_version_requests_total', { model_name: 'm', version: '1', version_label: 'stable', signature_name: 'serving_default', status: 'OK' }), 20);
    assert.equal(sample(text, 'tfmodel_version_request_duration_seconds_count', { model_name: 'm', version: '1', version_label: 'twin' }), 20);
    assert.equal(sample(text, 'tfmodel_version_requests_total', { model_name: 'm', version: '2' }), undefined);
  });

  it('runs the copies queued for a shadow as one batch on the real version and compares each copy with its own caller', async () => {
    // The queued copies of 12 callers (x = 0, 10, ..., 110), each with what version 1 answered it.
    const x = (v: number): Map<string, HostTensor> => new Map([['x', { dtype: DataType.DT_FLOAT, shape: [1], data: Float32Array.of(v) }]]);
    const primary = manager.acquire({ name: 'm', version: 1n });
    const calls = [];
    try {
      for (let i = 0; i < 12; i++) {
        const inputs = x(10 * i);
        calls.push({ signatureName: 'serving_default', inputs, outputs: await primary.engine.run({ signature: 'serving_default', inputs }) });
      }
    } finally {
      primary.release();
    }
    const rows: number[] = [];
    const counting = {
      acquire: (spec: { name: string; version?: bigint }): ServableHandle => {
        const handle = manager.acquire(spec);
        const run = handle.engine.run.bind(handle.engine);
        return Object.assign(Object.create(handle) as ServableHandle, {
          engine: Object.assign(Object.create(handle.engine) as typeof handle.engine, {
            run: (request: Parameters<typeof run>[0]) => (rows.push(request.inputs.get('x')!.shape[0]!), run(request)),
          }),
          release: () => handle.release(),
        });
      },
    };
    const events: ShadowEvent[] = [];
    const runner = new ShadowRunner({ core: counting, observer: { shadow: (e) => void events.push(e) }, maxBatchRows: 8 });
    for (const call of calls) runner.submit('m', 1n, 2n, call);
    await runner.drained();
    assert.deepEqual(rows, [8, 4], 'twelve copies in two runs of at most 8 rows');
    assert.equal(events.length, 12);
    // Version 2 (half_plus_three) answers each row 1 more than version 1 did: a copy compared with
    // another caller's row would differ by 4 or more (the callers' x are 10 apart).
    assert.deepEqual(events.map((e) => [e.outcome, e.shadowFailed, e.comparisons?.map((c) => [c.output, c.maxAbsDiff])]), calls.map(() => ['run', false, [['y', 1]]]));
    assert.deepEqual(events.map((e) => e.comparisons![0]!.maxRelDiff), calls.map((_, i) => 1 / (5 * i + 3)));
  });
});
