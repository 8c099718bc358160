/**
 * What the native engine checks a request against, read from SavedModels made by real TensorFlow
 * (the corpus and TF Serving's half_plus_two): inputs reaching shape-bound ops are checked against
 * their placeholder's declared shape, element-wise-only inputs keep TensorFlow's freedom. Needs
 * no native engine (it reads the graph only); the engine itself is exercised in
 * test/server/onednn-shapes.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { SignatureChecks } from '../../src/server/runtime/engine.js';
import { sessionInputChecks } from '../../src/server/runtime/native/feed-checks.js';
import { selectMetaGraph } from '../../src/server/runtime/savedmodel/meta-graph.js';
import { readSavedModelProto } from '../../src/server/runtime/savedmodel/read-saved-model.js';
import { describeSignatures } from '../../src/server/runtime/savedmodel/signatures.js';
import { corpusDir } from '../support/corpus.js';
import { TF_SERVING_TESTDATA, itWithSharedModels } from '../support/shared-savedmodels.js';
import { HALF_PLUS_TWO } from '../support/test-models.js';

async function checksOf(dir: string): Promise<Map<string, SignatureChecks>> {
  const metaGraph = selectMetaGraph(await readSavedModelProto(dir), ['serve']);
  return sessionInputChecks(metaGraph, describeSignatures(metaGraph));
}

const summary = (checks: SignatureChecks | undefined): { bound: string[]; shapes: Record<string, readonly number[]> } => ({
  bound: [...(checks?.shapeBound ?? [])].sort(),
  shapes: Object.fromEntries(checks?.feedShapes ?? []),
});

describe('native engine feed checks (from the SavedModel graph)', function () {
  this.timeout(60_000);

  it('leaves half_plus_two\'s element-wise x free ([3] into [-1,1] is served, as by TF Serving)', async () => {
    const checks = await checksOf(HALF_PLUS_TWO);
    assert.deepEqual(summary(checks.get('serving_default')).bound, []);
    // x2 -> y3 is element-wise too; the classify/regress inputs parse tf.Examples (shape-bound).
    assert.deepEqual(summary(checks.get('regress_x_to_y')).bound, ['inputs']);
  });

  itWithSharedModels('reads a rank-0 placeholder of a producer-21 graph as unknown, as TensorFlow does (TF Serving\'s half_plus_three regresses a vector of Examples)', async () => {
    const checks = await checksOf(join(TF_SERVING_TESTDATA, 'saved_model_half_plus_three', '00000123'));
    // tf_example is declared `shape {}` in a graph of producer 21; x2 keeps its declared [-1,1].
    assert.deepEqual(summary(checks.get('tensorflow/serving/regress')), { bound: ['inputs'], shapes: {} });
  });

  describe('corpus models (TensorFlow 2.21 exports)', () => {
    const corpus = corpusDir();
    if (!corpus.dir) {
      it.skip(`skipped: ${corpus.skipReason}`);
      return;
    }
    const model = (name: string): string => join(corpus.dir!, name, 'model');

    it('binds the image of a Conv2D model to its placeholder\'s [?,16,16,3] (oneDNN\'s Conv2D aborted on rank 3)', async () => {
      assert.deepEqual(summary((await checksOf(model('keras_uint8_image'))).get('serving_default')), { bound: ['pixels'], shapes: { pixels: [-1, 16, 16, 3] } });
    });

    it('binds both inputs of CombinedNonMaxSuppression (its kernel aborted on rank-2 scores)', async () => {
      assert.deepEqual(summary((await checksOf(model('combined_nms'))).get('serving_default')), {
        bound: ['boxes', 'scores'],
        shapes: { boxes: [-1, 12, 1, 4], scores: [-1, 12, 3] },
      });
    });

    it('keeps unknown dimensions unknown (MobileNetV3 takes any image size, rank 4)', async () => {
      assert.deepEqual(summary((await checksOf(model('keras_mobilenet_v3'))).get('serving_default')), { bound: ['image'], shapes: { image: [-1, -1, -1, 3] } });
    });

    it('leaves a signature of element-wise ops free (multi_signature serving_default, an affine map)', async () => {
      const checks = await checksOf(model('multi_signature'));
      assert.deepEqual(summary(checks.get('serving_default')).bound, []);
      assert.deepEqual(summary(checks.get('sort')).bound, ['x']);
    });
  });
});
