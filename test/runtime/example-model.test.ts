/** The bundled example model gives the outputs TensorFlow recorded for it (examples/.../expected.json). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSavedModel } from '../../src/server/runtime/index.js';
import { type CorpusModel, REPO_ROOT, decodeTensors } from '../support/corpus.js';
import { describeMismatch } from '../support/tensor-compare.js';

const BASE = join(REPO_ROOT, 'examples', 'models', 'iris_classifier');

describe('bundled example model (iris_classifier)', () => {
  const expected = JSON.parse(readFileSync(join(BASE, 'expected.json'), 'utf8')) as Omit<CorpusModel, 'dir'> & { version: number };

  for (const threads of [0, 2]) {
    it(`matches TensorFlow's recorded outputs (${threads === 0 ? 'in-thread' : 'worker pool'})`, async () => {
      const model = await loadSavedModel(join(BASE, String(expected.version)), { runtime: 'wasm', threads });
      try {
        for (const testCase of expected.cases) {
          const outputs = await model.run({ signature: testCase.signature, inputs: decodeTensors(testCase.inputs) });
          for (const [alias, want] of decodeTensors(testCase.outputs)) {
            const mismatch = describeMismatch(outputs.get(alias)!, want, expected.rtol, expected.atol);
            assert.equal(mismatch, undefined, `${testCase.signature}/${alias}: ${mismatch}`);
          }
        }
      } finally {
        await model.dispose();
      }
    });
  }
});
