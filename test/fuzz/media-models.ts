/**
 * The string and image models the fuzz server serves beside half_plus_two (issue 7): TF-made
 * SavedModels of the ground-truth corpus (test/corpus/generate.py), read in place through a
 * version directory of symlinks: keras_mobilenet_v3 (`img`: float images of any size, the model
 * a 1x1 image poisoned), keras_text_vectorization (`text`: [-1,1] strings), png_bytes (`png`:
 * scalar PNG bytes) and keras_uint8_image (`u8img`: uint8 [-1,16,16,3]). Each comes with good
 * requests built from TensorFlow's recorded cases, whose answers must be TensorFlow's values
 * and the same on every call. Each version gets a warmup file (one of those cases per signature,
 * TF Serving's assets.extra/tf_serving_warmup_requests), so the first call of a signature, where
 * TensorFlow builds the session's executor (~1 s of CPU for MobileNetV3 here), happens at load
 * and not in a fuzz case: on a 2-core machine at load average 30 that first call answered 504
 * after 20 s in the release run (REST case 19).
 */
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { PredictRequestSchema, PredictResponseSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { PredictionLogSchema } from '../../src/gen/tensorflow_serving/apis/prediction_log_pb.js';
import { encodeTfRecords, warmupFilePath } from '../../src/server/warmup/index.js';
import { hostTensorToProto } from '../../src/server/api/tensor-proto.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { type HostTensor, tensorFromProto } from '../../src/server/runtime/tensor/host-tensor.js';
import { type CorpusCase, type CorpusModel, corpusDir, decodeTensor, decodeTensors, readCorpusModel } from '../support/corpus.js';
import { describeMismatch } from '../support/tensor-compare.js';

/** Served name -> corpus model. */
export const MEDIA_MODELS: Readonly<Record<string, string>> = {
  img: 'keras_mobilenet_v3',
  text: 'keras_text_vectorization',
  png: 'png_bytes',
  u8img: 'keras_uint8_image',
};

export interface MediaModel {
  readonly name: string;
  readonly corpus: CorpusModel;
  /** The base path (in the fuzz server's work dir) whose version 1 links to the corpus files. */
  readonly basePath: string;
  /** Cases of the corpus that TensorFlow answered, the good requests. */
  readonly goodCases: readonly CorpusCase[];
}

export interface MediaSet {
  readonly models: readonly MediaModel[];
  /** Why there are none (the corpus is unavailable), for the skip message. */
  readonly skipReason?: string;
}

/** Links the corpus models into `workDir/<name>/1`; none (with the reason) when the corpus is absent. */
export function linkMediaModels(workDir: string): MediaSet {
  const corpus = corpusDir();
  if (!corpus.dir) return { models: [], skipReason: corpus.skipReason };
  const models = Object.entries(MEDIA_MODELS).map(([name, corpusName]) => {
    const model = readCorpusModel(corpus.dir!, corpusName);
    const version = join(workDir, name, '1');
    mkdirSync(version, { recursive: true });
    for (const entry of readdirSync(model.dir)) symlinkSync(join(model.dir, entry), join(version, entry));
    writeWarmupFile(version, name, model.cases);
    // The mobilenet cases are 96x96 images (27k floats as JSON); the 64x80 one is kept too.
    const goodCases = model.cases.filter((c) => c.error === undefined && c.outputs !== undefined && (name !== 'img' || Object.values(c.inputs)[0]!.shape[0] === 1));
    return { name, corpus: model, basePath: join(workDir, name), goodCases };
  });
  return { models };
}

/** The version's warmup file: the first case TensorFlow answered of each signature, as a PredictLog. */
function writeWarmupFile(version: string, name: string, cases: readonly CorpusCase[]): void {
  const firstOfEach = new Map<string, CorpusCase>();
  for (const kase of cases) if (kase.error === undefined && !firstOfEach.has(kase.signature)) firstOfEach.set(kase.signature, kase);
  const records = [...firstOfEach.values()].map((kase) => toBinary(PredictionLogSchema, create(PredictionLogSchema, {
    logType: { case: 'predictLog', value: { request: fromBinary(PredictRequestSchema, grpcBytes(name, kase)) } },
  })));
  const path = warmupFilePath(version);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, encodeTfRecords(records));
}

/** A row-major flat list as nested JSON arrays of `shape`. */
export function nest(values: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  const [head, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: head! }, (_, i) => nest(values.slice(i * size, (i + 1) * size), rest));
}

/** The REST predict body of a corpus case (columnar; strings as {"b64"} so any bytes travel). */
export function restBody(kase: CorpusCase): string {
  const inputs = Object.fromEntries(Object.entries(kase.inputs).map(([alias, t]) => {
    const values = t.dtype === 'string' ? t.values.map((v) => ({ b64: String(v) })) : t.values;
    return [alias, nest(values, t.shape)];
  }));
  return JSON.stringify({ signature_name: kase.signature, inputs });
}

/** The gRPC PredictRequest bytes of a corpus case for model `name`. */
export function grpcBytes(name: string, kase: CorpusCase): Buffer {
  const inputs = Object.fromEntries([...decodeTensors(kase.inputs)].map(([alias, t]) => [alias, hostTensorToProto(t)]));
  return Buffer.from(toBinary(PredictRequestSchema, create(PredictRequestSchema, { modelSpec: { name, signatureName: kase.signature }, inputs })));
}

/** Flattens a JSON value (nested arrays) into its leaves. */
function leaves(value: unknown): unknown[] {
  return Array.isArray(value) ? value.flatMap(leaves) : [value];
}

function fromJson(expected: HostTensor, value: unknown): HostTensor {
  const flat = leaves(value);
  const data = expected.dtype === DataType.DT_FLOAT ? Float32Array.from(flat.map((v) => (v === 'NaN' ? NaN : Number(v))))
    : expected.dtype === DataType.DT_INT64 ? BigInt64Array.from(flat.map((v) => BigInt(v as number)))
      : Uint8Array.from(flat.map((v) => Number(v)));
  // JSON carries no shape of its own: the nesting gives it, checked by the element count.
  return { dtype: expected.dtype, shape: expected.shape, data };
}

/**
 * Where a REST answer differs from TensorFlow's outputs of `kase` (undefined when it matches):
 * a single output is written bare, several as an object keyed by alias.
 */
export function restMismatch(model: MediaModel, kase: CorpusCase, status: number, body: string): string | undefined {
  if (status !== 200) return `status ${status}: ${body.slice(0, 200)}`;
  let outputs: unknown;
  try {
    outputs = (JSON.parse(body.replace(/\bNaN\b/g, '"NaN"')) as { outputs?: unknown }).outputs;
  } catch {
    return `not JSON: ${body.slice(0, 200)}`;
  }
  const expected = Object.entries(kase.outputs);
  for (const [alias, tensor] of expected) {
    const value = expected.length === 1 ? outputs : (outputs as Record<string, unknown> | undefined)?.[alias];
    const want = decodeTensor(tensor);
    const got = fromJson(want, value);
    if ((got.data as ArrayLike<unknown>).length !== (want.data as ArrayLike<unknown>).length) return `${alias}: ${(got.data as ArrayLike<unknown>).length} values, TensorFlow ${(want.data as ArrayLike<unknown>).length}`;
    const mismatch = describeMismatch(got, want, model.corpus.rtol, model.corpus.atol);
    if (mismatch) return `${alias}: ${mismatch}`;
  }
  return undefined;
}

/** Where a gRPC PredictResponse differs from TensorFlow's outputs of `kase`. */
export function grpcMismatch(model: MediaModel, kase: CorpusCase, bytes: Buffer): string | undefined {
  const response = fromBinary(PredictResponseSchema, bytes);
  for (const [alias, tensor] of Object.entries(kase.outputs)) {
    const proto = response.outputs[alias];
    if (!proto) return `no output ${alias}`;
    const mismatch = describeMismatch(tensorFromProto(proto), decodeTensor(tensor), model.corpus.rtol, model.corpus.atol);
    if (mismatch) return `${alias}: ${mismatch}`;
  }
  return undefined;
}
