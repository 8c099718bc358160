/**
 * Every model of the TensorFlow-generated corpus, every recorded case: our outputs must equal
 * TensorFlow's own (within the model's tolerance; exactly for integers, strings and bools), on
 * every engine present (wasm, and the native engine when built; CI requires both).
 */
import assert from 'node:assert/strict';
import { Code, ServingError } from '../../src/server/errors.js';
import type { ModelEngine } from '../../src/server/runtime/engine.js';
import { SessionEngine } from '../../src/server/runtime/native/session-engine.js';
import { TfjsEngine } from '../../src/server/runtime/tfjs/tfjs-engine.js';
import { type TestRuntime, testRuntimes } from '../support/runtimes.js';
import { type CorpusCase, type JsonTensor, corpusDir, decodeTensors, readCorpusModel, readManifest } from '../support/corpus.js';
import { describeMismatch } from '../support/tensor-compare.js';

/**
 * tfjs computes int64 as int32 and float64 as float32. Where TensorFlow's own inputs or outputs of
 * a case leave those ranges, we must refuse with INVALID_ARGUMENT rather than answer wrongly.
 */
function beyondTfjsRange(testCase: CorpusCase): string | undefined {
  const tensors: Array<[string, JsonTensor]> = [...Object.entries(testCase.inputs), ...Object.entries(testCase.outputs ?? {})];
  for (const [alias, t] of tensors) {
    if (t.dtype === 'int64' || t.dtype === 'uint64') {
      const v = t.values.find((x) => BigInt(x as string) > 2147483647n || BigInt(x as string) < -2147483648n);
      if (v !== undefined) return `${alias} holds ${t.dtype} ${v}, beyond int32`;
    }
    if (t.dtype === 'float64') {
      const v = t.values.find((x) => typeof x === 'number' && Math.abs(x) > 3.4028234663852886e38);
      if (v !== undefined) return `${alias} holds float64 ${v}, beyond float32`;
    }
  }
  return undefined;
}

const corpus = corpusDir();

const loadOn = (runtime: TestRuntime, dir: string, tags: readonly string[]): Promise<ModelEngine> =>
  runtime === 'wasm' ? TfjsEngine.load(dir, { backend: 'wasm', tags }) : SessionEngine.load(dir, { tags });

for (const runtime of testRuntimes()) describe(`TensorFlow ground-truth corpus (${runtime === 'wasm' ? 'wasm backend' : 'native engine'})`, function () {
  if (!corpus.dir) {
    it.skip(`skipped: ${corpus.skipReason}`);
    return;
  }
  const dir = corpus.dir;
  const manifest = readManifest(dir);

  it('has at least 20 models', () => assert.ok(manifest.models.length >= 20, `${manifest.models.length} models`));

  for (const { name, description } of manifest.models) {
    describe(name, () => {
      const model = readCorpusModel(dir, name);
      let engine: ModelEngine | undefined;
      let loadError: unknown;
      before(async () => {
        try {
          engine = await loadOn(runtime, model.dir, model.tags);
        } catch (error) {
          loadError = error;
        }
      });
      after(async () => engine?.dispose());

      it(`loads (${description.split(':')[0]})`, () => {
        if (loadError) throw loadError;
      });
      let stateDiverged: string | undefined;
      model.cases.forEach((testCase, index) => {
        const shape = Object.values(testCase.inputs).map((t) => `[${t.shape}]`).join(' ');
        // The native engine carries int64 and float64 whole: it must answer them exactly.
        const beyond = runtime === 'wasm' ? beyondTfjsRange(testCase) : undefined;
        const title = `${testCase.signature} #${index} ${shape}`;
        const tfError = testCase.error;
        if (tfError) {
          it(`${title} fails as in TensorFlow (${Code[tfError.code]})`, async function () {
            if (!engine) this.skip();
            await assert.rejects(engine.run({ signature: testCase.signature, inputs: decodeTensors(testCase.inputs) }), (error: unknown) => {
              assert.ok(error instanceof ServingError, String(error));
              assert.equal(Code[error.code], Code[tfError.code], error.message);
              // TensorFlow's text wraps the op's message in node and stack context; a session (the
              // native engine) appends its own "\n\t [[{{node ...}}]]" context, eager Python another.
              const opMessage = error.message.split(/\n\s*\[\[\{\{/)[0]!;
              assert.ok(opMessage.length > 16 && tfError.message.includes(opMessage), `${error.message}\nis not part of TensorFlow's\n${tfError.message}`);
              return true;
            });
          });
          return;
        }
        if (beyond) {
          it(`${title} is refused with INVALID_ARGUMENT (${beyond})`, async function () {
            // Intended skip: after a refused step, a stateful model's values stay below TensorFlow's
            // until a reset, so later out-of-range steps are not reached at all.
            if (!engine || stateDiverged) this.skip();
            if (model.stateful) stateDiverged = `case #${index} was refused, so the model's state no longer follows TensorFlow's`;
            await assert.rejects(
              engine.run({ signature: testCase.signature, inputs: decodeTensors(testCase.inputs) }),
              (error: unknown) => error instanceof ServingError && error.code === Code.INVALID_ARGUMENT && /int32|float32/.test(error.message),
            );
          });
          return;
        }
        it(title, async function () {
          if (!engine) this.skip();
          const outputs = await engine.run({ signature: testCase.signature, inputs: decodeTensors(testCase.inputs) });
          const expected = decodeTensors(testCase.outputs);
          assert.deepEqual([...outputs.keys()].sort(), [...expected.keys()].sort());
          for (const [alias, want] of expected) {
            const mismatch = describeMismatch(outputs.get(alias)!, want, model.rtol, model.atol);
            assert.equal(mismatch, undefined, `output ${alias}: ${mismatch}`);
          }
        });
      });
    });
  }
});
