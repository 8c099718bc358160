/**
 * Weighted, sticky routing and shadow copies beyond REST Predict, on a real server (the model
 * manager with real SavedModels, the REST and gRPC transports):
 * - TF Serving's gRPC Predict, Classify, Regress, MultiInference and GetModelMetadata through a
 *   label (and without a version, through the default label), called with TF Serving's own Python
 *   client (tensorflow-serving-api) with the request key as call metadata: one caller reaches one
 *   version on every RPC and on REST, and `model_spec.version` names the version whose answer came;
 * - the Open Inference Protocol's infer (REST with the header, gRPC with the metadata, grpc-js);
 * - shadow copies of Classify, Regress, MultiInference and OIP infer compared in the metrics.
 * Version 1 is half_plus_two (y = 0.5x + 2), version 2 half_plus_four (y = 0.5x + 4, the same
 * graph and signatures): the expected answers of both come from TensorFlow itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { Metadata, credentials } from '@grpc/grpc-js';
import { ExampleSchema } from '../../src/gen/tensorflow/core/example/example_pb.js';
import { ModelInferRequestSchema, type ModelInferResponse } from '../../src/gen/inference/grpc_service_pb.js';
import { modelConfigListOf, parseModelServerConfig } from '../../src/server/config/model-config.js';
import { ModelManager } from '../../src/server/core/model-manager.js';
import { savedModelLoader } from '../../src/server/core/version-loader.js';
import { RoutedCore } from '../../src/server/api/routed-core.js';
import { parseRoutingConfig } from '../../src/server/routing/routing-config.js';
import { ShadowRunner } from '../../src/server/routing/shadow-runner.js';
import { ServingMetrics } from '../../src/server/metrics/index.js';
import { memoryLogger } from '../../src/server/logging.js';
import { type GrpcServer, createGrpcServer } from '../../src/server/transports/grpc/index.js';
import { inferenceServiceDefinition } from '../../src/server/transports/grpc/service-definitions.js';
import { grpcClient, unaryCall } from '../../src/server/transports/grpc/client.js';
import { type RestServer, createRestServer } from '../../src/server/transports/rest/index.js';
import { HALF_PLUS_FOUR, HALF_PLUS_TWO } from '../support/test-models.js';
import { type OracleRequest, askTensorFlow, jsonTensor, oraclePython } from '../support/tf-oracle.js';
import { type PyResult, metricSample, mixedVersionsBase, restPredictX, runPythonClient } from '../support/routing-fixtures.js';

const VERSIONS = [[1, HALF_PLUS_TWO], [2, HALF_PLUS_FOUR]] as const;
const X = 1;
const CLASSIFY_SIGNATURE = 'classify_x_to_y';
const REGRESS_SIGNATURE = 'regress_x_to_y';
const CLASSIFY = 'tensorflow/serving/classify';
const REGRESS = 'tensorflow/serving/regress';

/** What TensorFlow answers for x = X, per version: serving_default's y, classify's scores, regress's outputs. */
interface Expected { readonly y: number; readonly scores: number; readonly outputs: number }

function tensorFlowAnswers(python: string): Record<string, Expected> {
  const example = create(ExampleSchema, { features: { feature: { x: { kind: { case: 'floatList', value: { value: [X] } } } } } });
  const serialized = Buffer.from(toBinary(ExampleSchema, example)).toString('base64');
  const requests = VERSIONS.flatMap(([, dir]): OracleRequest[] => [
    { dir, signature: 'serving_default', inputs: { x: jsonTensor('float32', [1, 1], [X]) } },
    { dir, signature: CLASSIFY_SIGNATURE, inputs: { inputs: jsonTensor('string', [1], [serialized]) } },
    { dir, signature: REGRESS_SIGNATURE, inputs: { inputs: jsonTensor('string', [1], [serialized]) } },
  ]);
  const results = askTensorFlow(python, requests);
  const value = (i: number, output: string): number => {
    const result = results[i]!;
    assert.ok(result.outputs, `TensorFlow failed: ${result.error}`);
    return Number(result.outputs[output]!.values[0]);
  };
  const answers: Record<string, Expected> = {};
  VERSIONS.forEach(([version], v) => {
    answers[String(version)] = { y: value(3 * v, 'y'), scores: value(3 * v + 1, 'scores'), outputs: value(3 * v + 2, 'outputs') };
  });
  assert.notEqual(answers['1']!.y, answers['2']!.y, 'the versions must answer differently');
  return answers;
}

describe('routing and shadows on gRPC Classify/Regress/MultiInference/GetModelMetadata and the OIP infer', function () {
  this.timeout(180_000);
  const python = oraclePython();
  let answers: Record<string, Expected>;
  let root: string;
  let manager: ModelManager;
  let shadows: ShadowRunner;
  let rest: RestServer;
  let grpc: GrpcServer;
  let restPort: number;
  let grpcPort: number;
  const metrics = new ServingMetrics({ processMetrics: false });
  const keys = Array.from({ length: 80 }, (_, i) => `caller-${i}`);
  /** Which version each key reached through gRPC Predict. */
  const versionOf = new Map<string, string>();

  before(async function () {
    if (python.skipReason) {
      console.warn(`skipping: ${python.skipReason}`);
      return this.skip();
    }
    answers = tensorFlowAnswers(python.python!);
    root = mkdtempSync(join(tmpdir(), 'tfmodel-routing-grpc-'));
    const base = mixedVersionsBase(root, 'm', VERSIONS);
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
      'model_version_policy { all {} } version_labels { key: "stable" value: 1 } version_labels { key: "mirror" value: 1 } } }')));
    shadows = new ShadowRunner({ core: manager, observer: metrics, maxQueued: 1000 });
    const core = new RoutedCore({ core: manager, shadows });
    core.setRouting(parseRoutingConfig(JSON.stringify({
      models: { m: { default_label: 'stable', labels: { stable: { canaries: [{ version: 2, percent: 30 }] }, mirror: { shadow: { version: 2, percent: 100 } } } } },
    })));
    rest = createRestServer({ core, observer: metrics });
    restPort = await rest.listen(0, '127.0.0.1');
    grpc = createGrpcServer({ core, reloader: manager, observer: metrics, healthCheck: false });
    grpcPort = await grpc.listen(0, '127.0.0.1');
  });

  after(async () => {
    await Promise.all([rest?.close(), grpc?.close()]);
    await manager?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const features = { x: { float: [X] } };
  const spec = (label: string | undefined, signature?: string): object => ({ name: 'm', ...(label ? { label } : {}), ...(signature ? { signature_name: signature } : {}) });

  function callsFor(key: string, label: string | undefined, prefix = ''): object[] {
    const metadata = { 'x-request-id': key };
    return [
      { id: `${prefix}Predict ${key}`, rpc: 'Predict', spec: spec(label), inputs: { x: { dtype: 'float32', shape: [1, 1], values: [X] } }, metadata },
      { id: `${prefix}Classify ${key}`, rpc: 'Classify', spec: spec(label, CLASSIFY_SIGNATURE), examples: [features], metadata },
      { id: `${prefix}Regress ${key}`, rpc: 'Regress', spec: spec(label, REGRESS_SIGNATURE), examples: [features], metadata },
      {
        id: `${prefix}MultiInference ${key}`, rpc: 'MultiInference', examples: [features], metadata,
        tasks: [{ spec: spec(label, CLASSIFY_SIGNATURE), method_name: CLASSIFY }, { spec: spec(label, REGRESS_SIGNATURE), method_name: REGRESS }],
      },
      { id: `${prefix}GetModelMetadata ${key}`, rpc: 'GetModelMetadata', spec: spec(label), metadata_field: ['signature_def'], metadata },
    ];
  }

  /** The version a result reports, after checking its answer is that version's (TensorFlow's numbers). */
  function checkedVersion(rpc: string, result: PyResult): string {
    assert.equal(result.error, undefined, `${result.id}: ${JSON.stringify(result.error)}`);
    const response = result.response!;
    if (rpc === 'MultiInference') {
      const [classified, regressed] = response.results!;
      const version = String(classified!.model_spec.version);
      assert.equal(String(regressed!.model_spec.version), version, result.id);
      assert.deepEqual(classified!.classifications!.map((row) => row.map((c) => c.score)), [[answers[version]!.scores]], result.id);
      assert.deepEqual(regressed!.regressions, [answers[version]!.outputs], result.id);
      return version;
    }
    const version = String(response.model_spec.version);
    assert.ok(version in answers, `${result.id}: model_spec.version ${version}`);
    if (rpc === 'Predict') assert.deepEqual(response.outputs!['y']!.values, [answers[version]!.y], result.id);
    if (rpc === 'Classify') assert.deepEqual(response.classifications!.map((row) => row.map((c) => c.score)), [[answers[version]!.scores]], result.id);
    if (rpc === 'Regress') assert.deepEqual(response.regressions, [answers[version]!.outputs], result.id);
    return version;
  }

  it('gRPC through version_label and through the default label: every RPC of one caller reaches one version, named in model_spec.version', async () => {
    const calls = keys.flatMap((key) => [...callsFor(key, 'stable'), ...callsFor(key, undefined, 'default ')]);
    const results = await runPythonClient(python.python!, `127.0.0.1:${grpcPort}`, calls);
    const byKey = new Map<string, Set<string>>();
    for (const result of results) {
      const [rpc, key] = result.id.replace(/^default /, '').split(' ') as [string, string];
      const version = checkedVersion(rpc, result);
      if (!byKey.has(key)) byKey.set(key, new Set());
      byKey.get(key)!.add(version);
    }
    for (const key of keys) {
      const versions = [...byKey.get(key)!];
      assert.equal(versions.length, 1, `${key} reached versions ${versions} across the RPCs`);
      versionOf.set(key, versions[0]!);
    }
    const canary = keys.filter((k) => versionOf.get(k) === '2').length;
    // 30% of 80 keys: 24 expected, binomial sd about 4.
    assert.ok(canary >= 10 && canary <= 40, `the canary got ${canary} of ${keys.length} callers`);
  });

  it('the same key reaches the same version over REST (X-TFModel-Version)', async () => {
    for (const key of keys.slice(0, 30)) {
      const answer = await restPredictX(restPort, 'm/labels/stable', X, { 'x-request-id': key });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.version, versionOf.get(key), key);
    }
  });

  it('the OIP infer routes by the request key too: REST header and gRPC metadata, the version in model_version', async () => {
    const client = grpcClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    try {
      for (const key of keys.slice(0, 30)) {
        const response = await fetch(`http://127.0.0.1:${restPort}/v2/models/m/versions/stable/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': key },
          body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [X] }] }),
        });
        const body = (await response.json()) as { model_version: string; outputs: Array<{ name: string; data: number[] }> };
        assert.equal(response.status, 200, JSON.stringify(body));
        assert.equal(body.model_version, versionOf.get(key), `REST ${key}`);
        assert.deepEqual(body.outputs.find((o) => o.name === 'y')!.data, [answers[body.model_version]!.y]);

        const metadata = new Metadata();
        metadata.set('x-request-id', key);
        const request = create(ModelInferRequestSchema, {
          modelName: 'm',
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 1n], contents: { fp32Contents: [X] } }],
        });
        const answer: ModelInferResponse = await unaryCall(client, inferenceServiceDefinition.modelInfer, request, {}, metadata);
        assert.equal(answer.modelVersion, versionOf.get(key), `gRPC ${key} (no version: the default label)`);
        const y = Buffer.from(answer.rawOutputContents[answer.outputs.findIndex((o) => o.name === 'y')]!);
        assert.equal(y.readFloatLE(0), answers[answer.modelVersion]!.y);
      }
    } finally {
      client.close();
    }
  });

  it('copies Classify, Regress, MultiInference and OIP infer to the shadow and compares each output in the metrics', async () => {
    const calls = keys.slice(0, 10).flatMap((key) => callsFor(key, 'mirror', 'mirror ').filter((c) => !/Predict|GetModelMetadata/.test((c as { id: string }).id)));
    const results = await runPythonClient(python.python!, `127.0.0.1:${grpcPort}`, calls);
    for (const result of results) assert.equal(checkedVersion(result.id.split(' ')[1]!, result), '1', 'the caller gets the primary');
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`http://127.0.0.1:${restPort}/v2/models/m/versions/mirror/infer`, {
        method: 'POST', body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [X] }] }),
      });
      assert.equal(response.status, 200);
    }
    await shadows.drained();
    const text = (await metrics.render()).body;
    const pair = { model_name: 'm', primary_version: '1', shadow_version: '2' };
    // 10 Classify + 10 Regress + 10 MultiInference (two tasks, one copy each) + 5 OIP infer.
    assert.equal(metricSample(text, 'tfmodel_shadow_requests_total', { ...pair, outcome: 'run' }), 45);
    const difference = answers['2']!.scores - answers['1']!.scores;
    for (const [output, runs] of [['scores', 20], ['outputs', 20], ['y', 5]] as const) {
      assert.equal(metricSample(text, 'tfmodel_shadow_max_abs_diff_count', { ...pair, output }), runs, output);
      assert.equal(metricSample(text, 'tfmodel_shadow_max_abs_diff_sum', { ...pair, output }), runs * difference, output);
    }
    assert.equal(metricSample(text, 'tfmodel_shadow_errors_total', { ...pair, side: 'shadow' }), undefined);
    assert.equal(metricSample(text, 'tfmodel_shadow_errors_total', { ...pair, side: 'primary' }), undefined);
    // Only the callers' version is counted as serving them.
    assert.equal(metricSample(text, 'tfmodel_version_requests_total', { model_name: 'm', version: '1', version_label: 'mirror', signature_name: CLASSIFY_SIGNATURE, status: 'OK' }), 10);
  });
});
