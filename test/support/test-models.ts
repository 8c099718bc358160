/**
 * Our own small SavedModels for tests (test/models/, exported by test/models/generate.py with the
 * pinned TensorFlow): twins of the models TF Serving tests with, so the suite runs on a clone alone.
 */
import { join } from 'node:path';
import { REPO_ROOT } from './corpus.js';
import { TF_SERVING_TESTDATA, sharedSavedModelsPresent } from './shared-savedmodels.js';

export const TEST_MODELS = join(REPO_ROOT, 'test', 'models');

/** TF1 half_plus_two base path, version 00000123 only (y = 0.5x + 2, classify/regress). */
export const HALF_PLUS_TWO_BASE = join(TEST_MODELS, 'half_plus_two');
/** Its one version. */
export const HALF_PLUS_TWO = join(HALF_PLUS_TWO_BASE, '00000123');
/** The same model as versions 00000123 and 00000124. */
export const HALF_PLUS_TWO_2_VERSIONS_BASE = join(TEST_MODELS, 'half_plus_two_2_versions');
/** TF1 half_plus_three base path (y = 0.5x + 3; serving_default and tensorflow/serving/regress). */
export const HALF_PLUS_THREE_BASE = join(TEST_MODELS, 'half_plus_three');
/** half_plus_two's graph and signatures with b = 4 (y = 0.5x + 4), one version: answers differently on every signature. */
export const HALF_PLUS_FOUR = join(TEST_MODELS, 'half_plus_four', '00000123');
/** TF1: serving_default y = 0.5x + 2 behind Assert(all(x < 7)): fails the requests with an x >= 7. */
export const HALF_PLUS_TWO_FAILS_FROM_7 = join(TEST_MODELS, 'half_plus_two_fails_from_7', '00000123');
/** TF2 tf.Module half_plus_two base path (every signature's method is predict). */
export const HALF_PLUS_TWO_TF2_BASE = join(TEST_MODELS, 'half_plus_two_tf2');
/** TF2: x int64[-1] -> output_0 = 6x, one version. */
export const INT64_TIMES_SIX = join(TEST_MODELS, 'int64_times_six', '00000123');
/** TF1 stateful counter base path. */
export const COUNTER_BASE = join(TEST_MODELS, 'counter');

/** Base paths of the half_plus_two family and the counter. */
export interface ServingTestModels {
  /** True: TF Serving's own exports (../shared); false: our twins. */
  readonly official: boolean;
  readonly halfPlusTwo: string;
  readonly halfPlusTwo2Versions: string;
  readonly halfPlusThree: string;
  readonly halfPlusTwoTf2: string;
  readonly counter: string;
}

/**
 * TF Serving's own test models when they are present (CI), else our twins: the same signatures,
 * methods, dtypes and arithmetic. Only checks against TF Serving's exact files (its metadata
 * bodies) need `official`.
 */
export function servingTestModels(): ServingTestModels {
  if (sharedSavedModelsPresent()) {
    return {
      official: true,
      halfPlusTwo: join(TF_SERVING_TESTDATA, 'saved_model_half_plus_two_cpu'),
      halfPlusTwo2Versions: join(TF_SERVING_TESTDATA, 'saved_model_half_plus_two_2_versions'),
      halfPlusThree: join(TF_SERVING_TESTDATA, 'saved_model_half_plus_three'),
      halfPlusTwoTf2: join(TF_SERVING_TESTDATA, 'saved_model_half_plus_two_tf2_cpu'),
      counter: join(TF_SERVING_TESTDATA, 'saved_model_counter'),
    };
  }
  return {
    official: false,
    halfPlusTwo: HALF_PLUS_TWO_BASE,
    halfPlusTwo2Versions: HALF_PLUS_TWO_2_VERSIONS_BASE,
    halfPlusThree: HALF_PLUS_THREE_BASE,
    halfPlusTwoTf2: HALF_PLUS_TWO_TF2_BASE,
    counter: COUNTER_BASE,
  };
}
