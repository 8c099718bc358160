/**
 * The native engine with oneDNN on (TF_ENABLE_ONEDNN_OPTS=1, as a deployment may set it; the
 * default stays off, see tensorflow-env.ts): every input shape found to abort
 * the process inside TensorFlow's kernels is refused with INVALID_ARGUMENT / 400 before
 * TF_SessionRun, the server stays up, and the models answer TensorFlow's values afterwards.
 *
 * The reproducers were found by feeding each corpus model's inputs mutated shapes (rank 0/1,
 * rank -1/+1, zero, one, +1 and 1000 in each dimension) in a child process, straight to the
 * session: oneDNN's Conv2D (MklConvOp) CHECK-failed on every rank below 4 into a convolution;
 * CombinedNonMaxSuppression CHECK-failed on rank-1/2 scores and a grouped convolution died of
 * SIGFPE on zero channels, both with oneDNN off too. docs/hostile-input.md has the table.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { type Client, type ServiceError, credentials } from '@grpc/grpc-js';
import { type PredictRequest, PredictRequestSchema, type PredictResponse } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { hostTensorToProto } from '../../src/server/api/tensor-proto.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { type HostTensor, allocateData, numElements, tensorFromProto } from '../../src/server/runtime/tensor/host-tensor.js';
import { grpcClient, unaryCall } from '../../src/server/transports/grpc/client.js';
import { predictionServiceDefinition } from '../../src/server/transports/grpc/index.js';
import { corpusDir, decodeTensors, readCorpusModel } from '../support/corpus.js';
import { describeWithNativeEngine } from '../support/runtimes.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { describeMismatch } from '../support/tensor-compare.js';
import { HALF_PLUS_TWO_BASE } from '../support/test-models.js';

interface Reproducer {
  readonly model: string;
  readonly signature: string;
  /** alias -> shape fed (zeros); the first alias is the mutated one. */
  readonly inputs: Readonly<Record<string, { dtype: DataType; shape: number[] }>>;
  /** How the process died when this reached the session. */
  readonly died: string;
  readonly refused: RegExp;
}

const F = DataType.DT_FLOAT;
const U8 = DataType.DT_UINT8;
const conv = 'SIGABRT in MklConvOp (oneDNN on): Check failed: index >= 0 && index < num_total_dims';
const REPRODUCERS: readonly Reproducer[] = [
  { model: 'u8img', signature: 'serving_default', inputs: { pixels: { dtype: U8, shape: [3] } }, died: conv, refused: /input must be 4-dimensional\[3\]/ },
  { model: 'u8img', signature: 'serving_default', inputs: { pixels: { dtype: U8, shape: [] } }, died: conv, refused: /input must be 4-dimensional\[\]/ },
  { model: 'u8img', signature: 'serving_default', inputs: { pixels: { dtype: U8, shape: [1, 16, 16] } }, died: conv, refused: /input must be 4-dimensional\[1,16,16\]/ },
  { model: 'cnn', signature: 'serving_default', inputs: { image: { dtype: F, shape: [1, 28, 28] } }, died: conv, refused: /input must be 4-dimensional\[1,28,28\]/ },
  { model: 'mnv3', signature: 'serving_default', inputs: { image: { dtype: F, shape: [1, 8, 8] } }, died: conv, refused: /input must be 4-dimensional\[1,8,8\]/ },
  { model: 'tf1conv', signature: 'serving_default', inputs: { images: { dtype: F, shape: [1] } }, died: conv, refused: /input must be 4-dimensional\[1\]/ },
  {
    model: 'grouped', signature: 'keras', inputs: { images: { dtype: F, shape: [1, 6, 6, 0] } },
    died: 'SIGFPE (oneDNN on or off)',
    refused: /Cannot feed value of shape \(1, 6, 6, 0\) for Tensor keras_images:0, which has shape \(None, 6, 6, 8\)/,
  },
  {
    model: 'nms', signature: 'serving_default', inputs: { scores: { dtype: F, shape: [1, 12] }, boxes: { dtype: F, shape: [1, 12, 1, 4] } },
    died: 'SIGABRT in CombinedNonMaxSuppressionOp (oneDNN on or off): Check failed: d < dims() (2 vs. 2)',
    refused: /input must be 3-dimensional\[1,12\]/,
  },
  {
    model: 'nms', signature: 'ties', inputs: { scores: { dtype: F, shape: [1] }, boxes: { dtype: F, shape: [1, 40, 1, 4] } },
    died: 'SIGABRT in CombinedNonMaxSuppressionOp (oneDNN on or off): TensorShape dim_size',
    refused: /input must be 3-dimensional\[1\]/,
  },
];

const CORPUS_MODELS: Readonly<Record<string, string>> = {
  u8img: 'keras_uint8_image',
  cnn: 'keras_cnn',
  mnv3: 'keras_mobilenet_v3',
  tf1conv: 'tf1_conv_net',
  grouped: 'grouped_conv',
  nms: 'combined_nms',
};

/** A base path holding `dir` as version 1 (entries symlinked: the corpus is read in place). */
function versionedBasePath(root: string, name: string, dir: string): string {
  const version = join(root, name, '1');
  mkdirSync(version, { recursive: true });
  for (const entry of readdirSync(dir)) symlinkSync(join(dir, entry), join(version, entry));
  return join(root, name);
}

const zeros = (dtype: DataType, shape: number[]): HostTensor => ({ dtype, shape, data: allocateData(dtype, numElements(shape)) });

describeWithNativeEngine('native engine with oneDNN on: shapes that aborted the process are refused (REST and gRPC)', function () {
  const corpus = corpusDir();
  if (!corpus.dir) {
    it.skip(`skipped: ${corpus.skipReason}`);
    return;
  }
  this.timeout(300_000);
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-onednn-'));
  let server: ServerProcess;
  let rest: number;
  let client: Client;
  const alive = (): boolean => server.child.exitCode === null && server.child.signalCode === null;

  before(async () => {
    const models = [
      { name: 'hp2', base: HALF_PLUS_TWO_BASE },
      ...Object.entries(CORPUS_MODELS).map(([name, dir]) => ({ name, base: versionedBasePath(root, name, join(corpus.dir!, dir, 'model')) })),
    ];
    const config = join(root, 'models.config');
    writeFileSync(config, `model_config_list { ${models.map((m) => `config { name: "${m.name}" base_path: "${m.base}" model_platform: "tensorflow" }`).join(' ')} }`);
    // oneDNN on, as a deployment may set it (the default is off: tensorflow-env.ts).
    server = ServerProcess.start([`--model_config_file=${config}`, `--rest_api_port=${freePortSync()}`, '--runtime=tensorflow'], {
      TF_ENABLE_ONEDNN_OPTS: '1',
      TF_CPP_MIN_LOG_LEVEL: '0',
    });
    const ports = await server.ports();
    rest = ports.rest!;
    await server.waitFor((e) => e.event === 'serving', 240_000);
    client = grpcClient(`127.0.0.1:${ports.grpc}`, credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const predict = (model: string, signature: string, inputs: Map<string, HostTensor>): Promise<PredictResponse> =>
    unaryCall(client, predictionServiceDefinition.predict, create(PredictRequestSchema, {
      modelSpec: { name: model, signatureName: signature },
      inputs: Object.fromEntries([...inputs].map(([alias, t]) => [alias, hostTensorToProto(t)])),
    }) as PredictRequest) as Promise<PredictResponse>;

  it('runs TensorFlow with oneDNN on (TensorFlow says so when it loads)', () => {
    assert.ok(server.events.some((e) => e.event === 'raw' && /oneDNN custom operations are on/.test(String(e['line']))), 'oneDNN is on');
  });

  for (const r of REPRODUCERS) {
    const shapes = Object.entries(r.inputs).map(([alias, t]) => `${alias} ${JSON.stringify(t.shape)}`).join(', ');
    it(`gRPC ${r.model} ${r.signature} with ${shapes} is INVALID_ARGUMENT (it died: ${r.died})`, async () => {
      const inputs = new Map(Object.entries(r.inputs).map(([alias, t]) => [alias, zeros(t.dtype, t.shape)]));
      await assert.rejects(predict(r.model, r.signature, inputs), (error: unknown) => {
        const e = error as ServiceError;
        assert.equal(e.code, 3, `gRPC code ${e.code}: ${e.details}`);
        assert.match(e.details, r.refused);
        return true;
      });
      assert.ok(alive(), 'the server is alive');
    });
  }

  it('REST: {"instances":[1]} and {"inputs":[1,2,3]} into the uint8 image model answer 400 (the fuzz reproducer, seed 9 case 58)', async () => {
    for (const body of ['{"instances":[1]}', '{"inputs":[1,2,3]}']) {
      const response = await fetch(`http://127.0.0.1:${rest}/v1/models/u8img:predict`, { method: 'POST', body });
      const reply = (await response.json()) as { error?: string };
      assert.equal(response.status, 400, JSON.stringify(reply));
      assert.match(String(reply.error), /input must be 4-dimensional/);
    }
    assert.ok(alive());
  });

  it("then answers TensorFlow's values on every model (oneDNN's round-off within the corpus tolerances)", async () => {
    for (const [name, dir] of Object.entries(CORPUS_MODELS)) {
      const model = readCorpusModel(corpus.dir!, dir);
      for (const kase of model.cases.filter((c) => !c.error)) {
        const response = await predict(name, kase.signature, decodeTensors(kase.inputs));
        for (const [alias, want] of decodeTensors(kase.outputs)) {
          const got = tensorFromProto(response.outputs[alias]!);
          const mismatch = describeMismatch(got, want, model.rtol, model.atol);
          assert.equal(mismatch, undefined, `${name} ${kase.signature} ${alias}: ${mismatch}`);
        }
      }
    }
  });

  it('keeps TensorFlow\'s freedom for element-wise graphs: half_plus_two ([-1,1]) serves [3]', async () => {
    const response = await fetch(`http://127.0.0.1:${rest}/v1/models/hp2:predict`, { method: 'POST', body: '{"instances":[1.0, 2.0, 5.0]}' });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { predictions: [2.5, 3.0, 4.5] });
  });
});
