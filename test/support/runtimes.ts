/**
 * The execution engines present here, for suites that run on every one: wasm (always) and the
 * native engine (tfmodel's addon over TensorFlow's C API) when `npm run native:install` has built
 * it. Under CI=true the native engine is required: its absence fails instead of skipping.
 */
import { findAddon } from '../../src/server/runtime/native/tf-addon.js';
import { IN_CI, MissingPrerequisite } from './prerequisites.js';

export type TestRuntime = 'wasm' | 'tensorflow';

export const NATIVE_SKIP_REASON =
  "tfmodel's native TensorFlow engine is not built; run `npm run native:install` (scripts/native/install.sh)";

/** True when the native engine is installed; under CI=true its absence throws. */
export function nativeEnginePresent(): boolean {
  if (findAddon()) return true;
  if (IN_CI) throw new MissingPrerequisite(NATIVE_SKIP_REASON);
  return false;
}

/** The engines to run a suite on. */
export function testRuntimes(): TestRuntime[] {
  return nativeEnginePresent() ? ['wasm', 'tensorflow'] : ['wasm'];
}

/** `describe` for the native engine: pending with the reason when it is not built. */
export function describeWithNativeEngine(title: string, body: (this: Mocha.Suite) => void): void {
  if (nativeEnginePresent()) {
    describe(title, body);
    return;
  }
  describe(title, () => it.skip(`skipped: ${NATIVE_SKIP_REASON}`));
}
