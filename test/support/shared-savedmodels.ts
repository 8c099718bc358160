/**
 * TensorFlow Serving's and tfjs-node's own test files (SavedModels, configs, expected metadata
 * bodies), read in place from one directory: $TFMODEL_SHARED_SAVEDMODELS, by default
 * ../shared/savedmodels beside the checkout. They are not part of the repository, so a clone alone
 * lacks them: suites that need them are skipped with a message saying how to get them, and fail
 * under CI=true. Tests that merely need a model use our own twins (test-models.ts).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './corpus.js';
import { IN_CI, MissingPrerequisite } from './prerequisites.js';

export const SHARED_SAVEDMODELS = resolve(process.env['TFMODEL_SHARED_SAVEDMODELS'] ?? join(REPO_ROOT, '..', 'shared', 'savedmodels'));

/** TF Serving's testdata (servables/tensorflow/testdata): model base paths and configs. */
export const TF_SERVING_TESTDATA = join(SHARED_SAVEDMODELS, 'tf-serving');
/** tfjs-node's test SavedModels (each folder one SavedModel, no versions). */
export const TFJS_NODE_MODELS = join(SHARED_SAVEDMODELS, 'tfjs-node');

export const SHARED_SKIP_REASON =
  `TF Serving's and tfjs-node's test files are not at ${SHARED_SAVEDMODELS}; ` +
  'set TFMODEL_SHARED_SAVEDMODELS to a copy of them (tensorflow/serving servables/tensorflow/testdata ' +
  'as tf-serving/, tfjs-node test_objects/saved_model as tfjs-node/)';

/** True when the shared files are present. Under CI=true their absence throws. */
export function sharedSavedModelsPresent(): boolean {
  if (existsSync(join(TF_SERVING_TESTDATA, 'saved_model_half_plus_two_cpu')) && existsSync(TFJS_NODE_MODELS)) return true;
  if (IN_CI) throw new MissingPrerequisite(SHARED_SKIP_REASON);
  return false;
}

/**
 * `describe`, run only when the shared files are present; otherwise one pending test carries the
 * reason. Use it for every suite that reads TF Serving's or tfjs-node's own files.
 */
export function describeWithSharedModels(title: string, body: (this: Mocha.Suite) => void): void {
  if (sharedSavedModelsPresent()) {
    describe(title, body);
    return;
  }
  describe(title, () => it.skip(`skipped: ${SHARED_SKIP_REASON}`));
}

/** `it`, run only when the shared files are present (else pending, with the reason). */
export function itWithSharedModels(title: string, body: Mocha.Func | Mocha.AsyncFunc): void {
  if (sharedSavedModelsPresent()) it(title, body);
  else it.skip(`${title} (skipped: ${SHARED_SKIP_REASON})`);
}
