/**
 * Every model of the TensorFlow-generated corpus, every recorded case: our outputs must equal
 * TensorFlow's own (within the model's tolerance; exactly for integers, strings and bools).
 */
import assert from 'node:assert/strict';
import { TfjsEngine } from '../../src/server/runtime/tfjs/tfjs-engine.js';
import { corpusDir, decodeTensors, readCorpusModel, readManifest } from '../support/corpus.js';
import { describeMismatch } from '../support/tensor-compare.js';

const corpus = corpusDir();

describe('TensorFlow ground-truth corpus (wasm backend)', function () {
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
      let engine: TfjsEngine | undefined;
      let loadError: unknown;
      before(async () => {
        try {
          engine = await TfjsEngine.load(model.dir, { backend: 'wasm', tags: model.tags });
        } catch (error) {
          loadError = error;
        }
      });
      after(async () => engine?.dispose());

      it(`loads (${description.split(':')[0]})`, () => {
        if (loadError) throw loadError;
      });
      model.cases.forEach((testCase, index) => {
        const shape = Object.values(testCase.inputs).map((t) => `[${t.shape}]`).join(' ');
        it(`${testCase.signature} #${index} ${shape}`, async function () {
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
