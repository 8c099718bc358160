/**
 * The native engine (tfmodel's addon: a TensorFlow session over the C API) on SavedModels made by
 * real TensorFlow, against TensorFlow's own answers: every dtype end to end (issue 8, bug 4), Keras
 * variables captured by tf.functions restored as TF Serving restores them (bug 3), TensorFlow's
 * errors as ServingErrors, concurrent runs, and the session's ConfigProto as TensorFlow reads it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Code, ServingError } from '../../src/server/errors.js';
import { encodeSessionConfig } from '../../src/server/runtime/native/session-config.js';
import { SessionEngine } from '../../src/server/runtime/native/session-engine.js';
import { loadAddon } from '../../src/server/runtime/native/tf-addon.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import type { HostTensor } from '../../src/server/runtime/tensor/host-tensor.js';
import { describeWithNativeEngine } from '../support/runtimes.js';
import { describeMismatch } from '../support/tensor-compare.js';
import { HALF_PLUS_TWO, INT64_TIMES_SIX } from '../support/test-models.js';
import { oraclePython } from '../support/tf-oracle.js';
import { type FixtureModel, type RawTensor, decodeRaw, nativeFixtures, rawBytes } from './native/fixtures.js';

const isCode = (code: Code) => (e: unknown): boolean => e instanceof ServingError && e.code === code;

describeWithNativeEngine('native engine (TensorFlow session through the C API)', function () {
  this.timeout(300_000);
  let models: FixtureModel[] = [];
  before(function () {
    const fixtures = nativeFixtures();
    if (!fixtures.models) this.skip();
    models = fixtures.models;
  });
  const fixture = (name: string): FixtureModel => models.find((m) => m.name === name)!;
  const decodeAll = (raw: Record<string, RawTensor>): Map<string, HostTensor> =>
    new Map(Object.entries(raw).map(([k, v]) => [k, decodeRaw(v)]));

  it('carries every dtype a signature declares end to end, bit for bit as TensorFlow (bug 4)', async () => {
    const model = fixture('every_dtype');
    const engine = await SessionEngine.load(model.dir);
    try {
      assert.equal(model.cases.length, 16);
      for (const c of model.cases) {
        const outputs = await engine.run({ signature: c.signature, inputs: decodeAll(c.inputs) });
        for (const [alias, raw] of Object.entries(c.outputs)) {
          const want = decodeRaw(raw);
          const got = outputs.get(alias)!;
          assert.equal(got.dtype, want.dtype, `${c.signature} ${alias} dtype`);
          assert.deepEqual(got.shape, want.shape, `${c.signature} ${alias} shape`);
          assert.deepEqual(rawBytes(got), rawBytes(want), `${c.signature} ${alias} values`);
        }
      }
    } finally {
      await engine.dispose();
    }
  });

  it('keeps int64 beyond 2^53 whole (our int64_times_six twin)', async () => {
    const engine = await SessionEngine.load(INT64_TIMES_SIX);
    try {
      const [signature] = engine.signatures;
      const input = signature!.inputs[0]!;
      const x = BigInt64Array.from([2n ** 60n / 6n + 1n, -(2n ** 55n) - 3n]);
      const out = await engine.run({ signature: signature!.key, inputs: new Map([[input.alias, { dtype: DataType.DT_INT64, shape: [2], data: x }]]) });
      const y = [...out.values()][0]!;
      assert.equal(y.dtype, DataType.DT_INT64);
      assert.deepEqual(Array.from(y.data as BigInt64Array), Array.from(x, (v) => BigInt.asIntN(64, v * 6n)));
    } finally {
      await engine.dispose();
    }
  });

  it("restores Keras variables captured by tf.functions and decodes JPEGs in map_fn, as TensorFlow answers (bug 3)", async () => {
    const model = fixture('keras_behind_function');
    const engine = await SessionEngine.load(model.dir);
    try {
      assert.deepEqual(engine.signatures.map((s) => s.key), ['classify_jpeg', 'serving_default']);
      for (const c of model.cases) {
        const outputs = await engine.run({ signature: c.signature, inputs: decodeAll(c.inputs) });
        for (const [alias, raw] of Object.entries(c.outputs)) {
          const mismatch = describeMismatch(outputs.get(alias)!, decodeRaw(raw), 1e-5, 1e-6);
          assert.equal(mismatch, undefined, `${c.signature} ${alias}: ${mismatch}`);
        }
      }
    } finally {
      await engine.dispose();
    }
  });

  it('answers concurrent runs on one session like sequential ones', async () => {
    const model = fixture('keras_behind_function');
    const engine = await SessionEngine.load(model.dir);
    try {
      const c = model.cases[0]!;
      const want = decodeRaw(c.outputs['probabilities']!);
      const runs = await Promise.all(Array.from({ length: 12 }, () => engine.run({ signature: c.signature, inputs: decodeAll(c.inputs) })));
      for (const out of runs) assert.equal(describeMismatch(out.get('probabilities')!, want, 1e-5, 1e-6), undefined);
    } finally {
      await engine.dispose();
    }
  });

  it("fails bad requests with TensorFlow's code and message, and keeps serving", async () => {
    const model = fixture('keras_behind_function');
    const engine = await SessionEngine.load(model.dir);
    try {
      // Two channels for a network of three: TensorFlow's own INVALID_ARGUMENT from inside the graph.
      const images = { dtype: DataType.DT_UINT8, shape: [1, 32, 32, 2], data: new Uint8Array(2048) };
      await assert.rejects(engine.run({ signature: 'serving_default', inputs: new Map([['images', images]]) }), isCode(Code.INVALID_ARGUMENT));
      // Bytes that are no JPEG: DecodeJpeg's own error.
      const bad = { dtype: DataType.DT_STRING, shape: [1], data: [new Uint8Array([1, 2, 3])] };
      await assert.rejects(
        engine.run({ signature: 'classify_jpeg', inputs: new Map([['image_bytes', bad]]) }),
        (e: unknown) => isCode(Code.INVALID_ARGUMENT)(e) && /JPEG|jpeg|image/.test((e as Error).message),
      );
      // Our signature checks come first, with TF Serving's wording.
      await assert.rejects(
        engine.run({ signature: 'serving_default', inputs: new Map([['images', { dtype: DataType.DT_FLOAT, shape: [1], data: new Float32Array(1) }]]) }),
        (e: unknown) => isCode(Code.INVALID_ARGUMENT)(e) && /Expects arg\[0\] to be uint8 but float is provided/.test((e as Error).message),
      );
      await assert.rejects(engine.run({ signature: 'nope', inputs: new Map() }), isCode(Code.NOT_FOUND));
      const c = model.cases[0]!;
      const out = await engine.run({ signature: c.signature, inputs: decodeAll(c.inputs) });
      assert.equal(describeMismatch(out.get('probabilities')!, decodeRaw(c.outputs['probabilities']!), 1e-5, 1e-6), undefined);
    } finally {
      await engine.dispose();
    }
    await assert.rejects(engine.run({ signature: 'serving_default', inputs: new Map() }), isCode(Code.FAILED_PRECONDITION));
  });

  it("reports TensorFlow's load failure with its code (a SavedModel whose variables are gone)", async () => {
    const { mkdtempSync, cpSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'native-load-'));
    try {
      cpSync(HALF_PLUS_TWO, dir, { recursive: true });
      rmSync(join(dir, 'variables', 'variables.data-00000-of-00001'));
      await assert.rejects(
        SessionEngine.load(dir),
        (e: unknown) => e instanceof ServingError && e.code !== Code.INTERNAL && /Loading SavedModel .*variables\.data/s.test((e as Error).message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hands the session ConfigProto to TensorFlow as TensorFlow reads it (GPU memory fraction, allow growth, threads)', function () {
    const python = oraclePython();
    if (!python.python) this.skip();
    const config = encodeSessionConfig({ gpuMemoryFraction: 0.375, allowGrowth: true, intraOpThreads: 3, interOpThreads: 2 })!;
    // TF_SetConfig parses the bytes into TensorFlow's C++ SessionOptions; the addon serializes
    // what those options hold, and Python TensorFlow's ConfigProto reads that.
    const held = loadAddon().sessionOptionsView(config);
    const script = [
      'import sys, tensorflow as tf',
      'c = tf.compat.v1.ConfigProto.FromString(bytes.fromhex(sys.argv[1]))',
      'print(c.gpu_options.per_process_gpu_memory_fraction, c.gpu_options.allow_growth, c.intra_op_parallelism_threads, c.inter_op_parallelism_threads)',
    ].join('\n');
    const read = execFileSync(python.python!, ['-c', script, Buffer.from(held).toString('hex')], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    assert.equal(read.trim(), '0.375 True 3 2');
    assert.throws(() => loadAddon().sessionOptionsView(Uint8Array.from([0xff, 0xff, 0xff])), /ConfigProto|parse|Unparseable/i);
  });

  it('loads and serves with GPU options on a machine without a GPU (they apply to GPUs only)', async () => {
    const engine = await SessionEngine.load(HALF_PLUS_TWO, { session: { gpuMemoryFraction: 0.5, allowGrowth: true } });
    try {
      const out = await engine.run({ signature: 'serving_default', inputs: new Map([['x', { dtype: DataType.DT_FLOAT, shape: [3], data: Float32Array.from([1, 2, 5]) }]]) });
      assert.deepEqual(Array.from(out.get('y')!.data as Float32Array), [2.5, 3, 4.5]);
    } finally {
      await engine.dispose();
    }
  });
});
