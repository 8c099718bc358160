/**
 * Warmup on a temporary copy of half_plus_two: the logged requests replay (counted through a
 * wrapped engine) before the version is available, and bad warmup data fails the load clearly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MessageInitShape, create, toBinary } from '@bufbuild/protobuf';
import { ExampleSchema } from '../../gen/tensorflow/core/example/example_pb.js';
import { PredictionLogSchema } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import { HALF_PLUS_TWO } from '../../../test/support/test-models.js';
import { oraclePython } from '../../../test/support/tf-oracle.js';
import { hostTensorToProto } from '../api/tensor-proto.js';
import { type VersionToLoad, savedModelLoader } from '../core/version-loader.js';
import { Code, ServingError } from '../errors.js';
import type { ModelEngine, RunRequest } from '../runtime/engine.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import { type Batching, createBatching } from '../batching/index.js';
import { batchingConfigFrom, parseBatchingParameters } from '../config/batching-config.js';
import { ServingMetrics } from '../metrics/index.js';
import { type WarmupReport, modelWarmup } from './model-warmup.js';
import { encodeTfRecords, readTfRecords } from './tfrecord.js';
import { MAX_WARMUP_RECORDS, warmupFilePath } from './warmup-file.js';


type LogInit = MessageInitShape<typeof PredictionLogSchema>;

const example = (x: number) =>
  create(ExampleSchema, { features: { feature: { x: { kind: { case: 'floatList', value: { value: [x] } } } } } });
const exampleList = (...xs: number[]) => ({ kind: { case: 'exampleList' as const, value: { examples: xs.map(example) } } });
const predictLog = (signatureName = ''): LogInit => ({
  logType: {
    case: 'predictLog',
    value: {
      request: {
        modelSpec: { name: 'logged-name-is-ignored', signatureName },
        inputs: { x: hostTensorToProto({ dtype: DataType.DT_FLOAT, shape: [2, 1], data: Float32Array.from([1, 2]) }) },
      },
    },
  },
});
const classifyLog: LogInit = {
  logType: { case: 'classifyLog', value: { request: { modelSpec: { signatureName: 'classify_x_to_y' }, input: exampleList(20) } } },
};
const regressLog: LogInit = {
  logType: { case: 'regressLog', value: { request: { modelSpec: { signatureName: 'regress_x_to_y' }, input: exampleList(80, 1) } } },
};
const multiInferenceLog: LogInit = {
  logType: {
    case: 'multiInferenceLog',
    value: {
      request: {
        tasks: [
          { modelSpec: { name: 'm', signatureName: 'classify_x_to_y' }, methodName: 'tensorflow/serving/classify' },
          { modelSpec: { name: 'm', signatureName: 'regress_x_to_y' }, methodName: 'tensorflow/serving/regress' },
        ],
        input: exampleList(3),
      },
    },
  },
};

const serialize = (log: LogInit): Uint8Array => toBinary(PredictionLogSchema, create(PredictionLogSchema, log));

interface Harness {
  readonly version: VersionToLoad;
  readonly runs: RunRequest[];
  readonly reports: WarmupReport[];
  writeWarmup(bytes: Uint8Array): void;
  load(iterations?: number, options?: { batching?: Batching; metrics?: ServingMetrics }): Promise<ModelEngine>;
}

function harness(root: string): Harness {
  const dir = join(mkdtempSync(join(root, 'model-')), '00000123');
  cpSync(HALF_PLUS_TWO, dir, { recursive: true });
  const version: VersionToLoad = { model: 'half_plus_two', version: 123n, dir };
  const runs: RunRequest[] = [];
  const reports: WarmupReport[] = [];
  const counting = (engine: ModelEngine): ModelEngine => ({
    backend: engine.backend,
    signatures: engine.signatures,
    stateful: engine.stateful,
    run: (request) => {
      runs.push(request);
      return engine.run(request);
    },
    dispose: () => engine.dispose(),
  });
  return {
    version,
    runs,
    reports,
    writeWarmup(bytes) {
      mkdirSync(join(dir, 'assets.extra'), { recursive: true });
      writeFileSync(warmupFilePath(dir), bytes);
    },
    async load(iterations, options = {}) {
      const recorder = { warmup: () => assert.fail('the detailed report is preferred'), warmupFinished: (r: WarmupReport) => void reports.push(r) };
      const loader = savedModelLoader({
        threads: 0,
        wrap: (engine) => (options.batching ? options.batching.wrap(counting(engine)) : counting(engine)),
        beforeAvailable: modelWarmup({ numRequestIterations: iterations, observer: options.metrics ?? recorder }),
      });
      return (await loader(version)).engine;
    },
  };
}

async function loadFailure(h: Harness): Promise<ServingError> {
  try {
    const engine = await h.load();
    await engine.dispose();
  } catch (error) {
    assert.ok(error instanceof ServingError, `expected a ServingError, got ${String(error)}`);
    return error;
  }
  assert.fail('the load succeeded');
}

describe('model warmup', () => {
  let root: string;
  before(() => (root = mkdtempSync(join(tmpdir(), 'tfmodel-warmup-'))));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('replays every record num_request_iterations times before the version is available', async () => {
    const h = harness(root);
    h.writeWarmup(encodeTfRecords([predictLog(), classifyLog, regressLog, multiInferenceLog].map(serialize)));
    const engine = await h.load(2);
    try {
      // Each record twice in a row; multi-inference runs its two tasks.
      assert.deepEqual(h.runs.map((r) => r.signature), [
        ...['serving_default', 'classify_x_to_y', 'regress_x_to_y'].flatMap((s) => [s, s]),
        ...['classify_x_to_y', 'regress_x_to_y', 'classify_x_to_y', 'regress_x_to_y'],
      ]);
      assert.equal(h.reports.length, 1);
      assert.equal(h.reports[0]!.status, 'OK');
      assert.equal(h.reports[0]!.recordsRead, 4);
      assert.equal(h.reports[0]!.modelPath, h.version.dir);
      assert.ok(h.reports[0]!.micros > 0);
    } finally {
      await engine.dispose();
    }
  });

  it('warms up through server-side batching and reports to the metrics', async () => {
    const h = harness(root);
    h.writeWarmup(encodeTfRecords([predictLog(), regressLog].map(serialize)));
    const metrics = new ServingMetrics({ processMetrics: false });
    const batching = createBatching(batchingConfigFrom(parseBatchingParameters('max_batch_size { value: 8 }')), { observer: metrics });
    const engine = await h.load(3, { batching, metrics });
    await engine.dispose();
    assert.equal(h.runs.length, 6);
    const body = (await metrics.render()).body;
    assert.match(body, /^:tensorflow:serving:model_warmup_latency_count\{model_path="[^"]+00000123",status="OK"\} 1$/m);
    assert.match(body, /^:tensorflow:serving:model_warmup_records_read\{model_path="[^"]+",status="OK"\} 2$/m);
    assert.match(body, /^:tensorflow:serving:batching_session:queuing_latency_count\{thread_pool_name="batch_threads"\} 6$/m);
  });

  it('does nothing (and reports nothing) without a warmup file', async () => {
    const h = harness(root);
    const engine = await h.load();
    await engine.dispose();
    assert.equal(h.runs.length, 0);
    assert.equal(h.reports.length, 0);
  });

  it('fails the load on a corrupted file with DATA_LOSS', async () => {
    const h = harness(root);
    const file = encodeTfRecords([serialize(predictLog()), serialize(regressLog)]);
    file[file.length - 1]! ^= 0xff;
    h.writeWarmup(file);
    const error = await loadFailure(h);
    assert.equal(error.code, Code.DATA_LOSS);
    assert.match(error.message, /corrupted record at \d+\. Please verify your warmup data is in TFRecord format\.$/);
    assert.ok(error.message.includes(warmupFilePath(h.version.dir)));
    assert.equal(h.runs.length, 0, 'nothing runs from a damaged file');
    assert.equal(h.reports[0]!.status, error.toString());
  });

  it('fails the load when a warmup request fails, naming the record', async () => {
    const h = harness(root);
    h.writeWarmup(encodeTfRecords([serialize(predictLog()), serialize(predictLog('no_such_signature'))]));
    const error = await loadFailure(h);
    assert.equal(error.code, Code.FAILED_PRECONDITION);
    assert.match(error.message, /^Warmup request 1 \(predictLog\) from .*tf_serving_warmup_requests failed: Serving signature key "no_such_signature" not found\.$/);
    assert.equal(h.reports[0]!.recordsRead, 1);
  });

  it('refuses records that are not PredictionLogs, unsupported log types and too many records', async () => {
    const garbage = harness(root);
    garbage.writeWarmup(encodeTfRecords([Uint8Array.from([0xff, 0xff, 0xff])]));
    const parse = await loadFailure(garbage);
    assert.equal(parse.code, Code.INVALID_ARGUMENT);
    assert.match(parse.message, /^Failed to parse warmup record: record 0 /);

    const sessionRun = harness(root);
    // Field 5 (session_run_log), an empty message: tag (5 << 3 | 2), length 0.
    sessionRun.writeWarmup(encodeTfRecords([Uint8Array.from([0x2a, 0x00])]));
    const unsupported = await loadFailure(sessionRun);
    assert.equal(unsupported.code, Code.UNIMPLEMENTED);
    assert.match(unsupported.message, /Unsupported log_type for warmup: 5$/);

    const many = harness(root);
    many.writeWarmup(encodeTfRecords(Array.from({ length: MAX_WARMUP_RECORDS + 1 }, () => serialize(predictLog()))));
    const tooMany = await loadFailure(many);
    assert.equal(tooMany.code, Code.INVALID_ARGUMENT);
    assert.equal(tooMany.message, `Number of warmup records exceeds the maximum (1000) at ${warmupFilePath(many.version.dir)}`);
    assert.equal(many.runs.length, 0);
  });

  describe('with a file written by real TensorFlow', () => {
    const python = oraclePython();
    it('replays tf.io.TFRecordWriter output', async function () {
      if (!python.python) this.skip();
      const h = harness(root);
      const fallback = join(h.version.dir, 'fallback-records');
      mkdirSync(fallback);
      [predictLog(), regressLog].forEach((log, i) => writeFileSync(join(fallback, `${i}.pb`), serialize(log)));
      mkdirSync(join(h.version.dir, 'assets.extra'));
      const result = spawnSync(python.python!, ['-c', WRITE_WARMUP_PY, warmupFilePath(h.version.dir), fallback], {
        encoding: 'utf8',
        env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
      });
      assert.equal(result.status, 0, result.stderr);
      const used = result.stdout.trim().split('\n').pop();
      assert.ok(used === 'tensorflow_serving.apis' || used === 'generated protos', `python said: ${used}`);
      assert.equal(readTfRecords(readFileSync(warmupFilePath(h.version.dir))).length, 2);
      const engine = await h.load();
      await engine.dispose();
      assert.deepEqual(h.runs.map((r) => r.signature), ['serving_default', 'regress_x_to_y']);
      assert.equal(h.reports[0]!.status, 'OK');
    });
  });
});

/**
 * Writes the warmup file with tf.io.TFRecordWriter: PredictionLogs built with the
 * tensorflow-serving-api package when it is installed (as TF Serving's docs do), else the
 * serialized logs our tests wrote. Prints which it used.
 */
const WRITE_WARMUP_PY = `
import os, sys
import tensorflow as tf
out, fallback = sys.argv[1], sys.argv[2]
try:
    from tensorflow_serving.apis import input_pb2, model_pb2, predict_pb2, prediction_log_pb2, regression_pb2
    predict = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name="half_plus_two"))
    predict.inputs["x"].CopyFrom(tf.make_tensor_proto([[1.0], [2.0]], dtype=tf.float32))
    examples = [tf.train.Example(features=tf.train.Features(feature={"x": tf.train.Feature(float_list=tf.train.FloatList(value=[v]))})) for v in (80.0, 1.0)]
    regress = regression_pb2.RegressionRequest(
        model_spec=model_pb2.ModelSpec(name="half_plus_two", signature_name="regress_x_to_y"),
        input=input_pb2.Input(example_list=input_pb2.ExampleList(examples=examples)))
    records = [
        prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=predict)).SerializeToString(),
        prediction_log_pb2.PredictionLog(regress_log=prediction_log_pb2.RegressLog(request=regress)).SerializeToString(),
    ]
    used = "tensorflow_serving.apis"
except ImportError:
    records = [open(os.path.join(fallback, name), "rb").read() for name in sorted(os.listdir(fallback))]
    used = "generated protos"
with tf.io.TFRecordWriter(out) as writer:
    for record in records:
        writer.write(record)
print(used)
`;
