/**
 * Issue 7 items 1 and 2 through the real server (REST and gRPC, pooled engine): requests that do
 * not fit the signature answer INVALID_ARGUMENT / 400 before any kernel sees them, and the model
 * keeps answering TensorFlow's values afterwards.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { type Client, type ServiceError, credentials } from '@grpc/grpc-js';
import { type PredictRequest, PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import type { TensorProto } from '../../src/gen/tensorflow/core/framework/tensor_pb.js';
import { hostTensorToProto } from '../../src/server/api/tensor-proto.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { grpcClient, unaryCall } from '../../src/server/transports/grpc/client.js';
import { predictionServiceDefinition } from '../../src/server/transports/grpc/index.js';
import { type CorpusModel, corpusDir, decodeTensors, readCorpusModel } from '../support/corpus.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';
import { describeMismatch } from '../support/tensor-compare.js';
import { HALF_PLUS_TWO_BASE } from '../support/test-models.js';

/** A base path holding `dir` as version 1 (entries symlinked: the corpus is read in place). */
function versionedBasePath(root: string, name: string, dir: string): string {
  const version = join(root, name, '1');
  mkdirSync(version, { recursive: true });
  for (const entry of readdirSync(dir)) symlinkSync(join(dir, entry), join(version, entry));
  return join(root, name);
}

const corpus = corpusDir();

describe('hostile input: requests are checked against the signature (REST and gRPC)', function () {
  if (!corpus.dir) {
    it.skip(`skipped: ${corpus.skipReason}`);
    return;
  }
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), 'tfmodel-hostile-'));
  const cnn: CorpusModel = readCorpusModel(corpus.dir, 'keras_cnn');
  let server: ServerProcess;
  let rest: number;
  let client: Client;

  before(async () => {
    const models = [
      { name: 'hp2', base: HALF_PLUS_TWO_BASE },
      { name: 'cnn', base: versionedBasePath(root, 'cnn', cnn.dir) },
      { name: 'two', base: versionedBasePath(root, 'two', join(corpus.dir!, 'keras_two_in_two_out', 'model')) },
      { name: 'vocab', base: versionedBasePath(root, 'vocab', join(corpus.dir!, 'vocab_lookup', 'model')) },
    ];
    const config = join(root, 'models.config');
    writeFileSync(config, `model_config_list { ${models.map((m) => `config { name: "${m.name}" base_path: "${m.base}" model_platform: "tensorflow" }`).join(' ')} }`);
    server = ServerProcess.start([`--model_config_file=${config}`, `--rest_api_port=${freePortSync()}`, '--inference_threads=1', '--runtime=wasm']);
    const ports = await server.ports();
    rest = ports.rest!;
    await server.waitFor((e) => e.event === 'serving');
    client = grpcClient(`127.0.0.1:${ports.grpc}`, credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const post = async (model: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`http://127.0.0.1:${rest}/v1/models/${model}:predict`, { method: 'POST', body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const grpcPredict = (model: string, inputs: Record<string, TensorProto>): Promise<unknown> =>
    unaryCall(client, predictionServiceDefinition.predict, create(PredictRequestSchema, { modelSpec: { name: model }, inputs }) as PredictRequest);
  const rejectsInvalid = (pattern: RegExp) => (error: unknown): boolean => {
    const e = error as ServiceError;
    assert.equal(e.code, 3, `gRPC code ${e.code}: ${e.details}`);
    assert.match(e.details, pattern);
    return true;
  };

  /** The CNN answers TensorFlow's values for the corpus' recorded case. */
  async function cnnAnswersTensorFlow(): Promise<void> {
    const kase = cnn.cases[0]!;
    const image = kase.inputs['image']!;
    const rows: number[][][][] = [];
    const values = image.values as number[];
    for (let b = 0; b < image.shape[0]!; b++) {
      rows.push(Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => [values[b * 784 + y * 28 + x]!])));
    }
    const { status, body } = await post('cnn', JSON.stringify({ instances: rows }));
    assert.equal(status, 200, JSON.stringify(body));
    const predictions = body['predictions'] as Array<{ probabilities: number[] }>;
    const expected = decodeTensors(kase.outputs).get('probabilities')!;
    const actual = { dtype: DataType.DT_FLOAT, shape: expected.shape, data: Float32Array.from(predictions.flatMap((p) => p.probabilities)) };
    assert.equal(describeMismatch(actual, expected, cnn.rtol, cnn.atol), undefined);
  }

  it('answers 400 for a rank-1 instance into a rank-4 image input ({"instances":[1]})', async () => {
    const { status, body } = await post('cnn', '{"instances":[1]}');
    assert.equal(status, 400);
    assert.match(String(body['error']), /input must be 4-dimensional\[1\]/);
  });

  it('answers 400 for a 1x1 image into a 28x28 input, then TensorFlow\'s values for valid images', async () => {
    const { status, body } = await post('cnn', '{"instances":[[[[0.1]]]]}');
    assert.equal(status, 400);
    assert.match(String(body['error']), /Cannot feed value of shape \(1, 1, 1, 1\) for Tensor serving_default_image:0, which has shape \(None, 28, 28, 1\)/);
    await cnnAnswersTensorFlow();
  });

  it('answers 400 for inputs whose batch sizes disagree', async () => {
    const { status, body } = await post('two', JSON.stringify({ inputs: { context: [[1, 2, 3, 4]], dense_features: [[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8]] } }));
    assert.equal(status, 400);
    assert.match(String(body['error']), /same batch size.*context has 1.*dense_features has 2/);
  });

  it('answers 400 for a string model sent [["a","b"]] and for an emoji string as an image', async () => {
    const strings = await post('vocab', '{"instances":[["a","b"]]}');
    assert.equal(strings.status, 400, JSON.stringify(strings.body));
    assert.match(String(strings.body['error']), /input must be 1-dimensional\[1,2\]/);
    const emoji = await post('cnn', JSON.stringify({ inputs: '\u{1F600}' }));
    assert.equal(emoji.status, 400, JSON.stringify(emoji.body));
  });

  it('keeps TensorFlow\'s freedom for element-wise graphs: half_plus_two ([-1,1]) serves [3]', async () => {
    const { status, body } = await post('hp2', '{"instances":[1.0, 2.0, 5.0]}');
    assert.equal(status, 200);
    assert.deepEqual(body, { predictions: [2.5, 3.0, 4.5] });
  });

  it('gRPC: a [3] float tensor into a rank-4 input is INVALID_ARGUMENT, the model still answers', async () => {
    await assert.rejects(grpcPredict('cnn', { image: hostTensorToProto({ dtype: DataType.DT_FLOAT, shape: [3], data: Float32Array.of(1, 2, 3) }) }),
      rejectsInvalid(/input must be 4-dimensional\[3\]/));
    await cnnAnswersTensorFlow();
  });

  it('gRPC: wrong dtypes and tensor_content lengths are INVALID_ARGUMENT with TensorFlow\'s words', async () => {
    await assert.rejects(grpcPredict('cnn', { image: hostTensorToProto({ dtype: DataType.DT_INT64, shape: [1, 28, 28, 1], data: new BigInt64Array(784) }) }),
      rejectsInvalid(/^Expects arg\[0\] to be float but int64 is provided$/));
    const short = hostTensorToProto({ dtype: DataType.DT_FLOAT, shape: [1, 28, 28, 1], data: new Float32Array(784) });
    short.floatVal = [];
    short.tensorContent = new Uint8Array(12);
    await assert.rejects(grpcPredict('cnn', { image: short }), rejectsInvalid(/tensor parsing error: image/));
  });

  it('gRPC: 100k string_val entries into a [3] string tensor are INVALID_ARGUMENT; 100k into [100000] are served', async () => {
    const many = Array.from({ length: 100_000 }, (_, i) => new TextEncoder().encode(i % 2 ? 'the' : 'lazy'));
    const wrong = hostTensorToProto({ dtype: DataType.DT_STRING, shape: [3], data: many.slice(0, 3) });
    wrong.stringVal = many;
    await assert.rejects(grpcPredict('vocab', { tokens: wrong }), rejectsInvalid(/tensor parsing error: tokens/));
    const response = (await grpcPredict('vocab', { tokens: hostTensorToProto({ dtype: DataType.DT_STRING, shape: [100_000], data: many }) })) as { outputs: Record<string, TensorProto> };
    const ids = response.outputs['ids']!;
    assert.equal(ids.int64Val.length, 100_000);
    // TensorFlow's ids for these tokens (the corpus' recorded case): the -> 1, lazy -> 7.
    assert.deepEqual([...new Set(ids.int64Val.map(String))].sort(), ['1', '7']);
    assert.equal(String(ids.int64Val[0]), '7');
  });
});
