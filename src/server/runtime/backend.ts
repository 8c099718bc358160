/**
 * Which engine executes SavedModels. `tensorflow` is libtensorflow: tfmodel's own addon over
 * TensorFlow's C API (`npm run native:install`; a TensorFlow session, every dtype, CPU or CUDA)
 * when built, else @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node when one is installed;
 * `wasm` (SIMD) is the portable default; `cpu` is tfjs's plain JavaScript backend.
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type RuntimeSelection = 'auto' | BackendName;

export const RUNTIME_SELECTIONS: readonly RuntimeSelection[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export function parseRuntimeSelection(text: string): RuntimeSelection | undefined {
  return (RUNTIME_SELECTIONS as readonly string[]).includes(text) ? (text as RuntimeSelection) : undefined;
}

/** tfmodel's own native addon (src/server/runtime/native/addon). */
export const NATIVE_ADDON = 'tfmodel-native';
/** The tfjs-node packages, in order of preference after the addon. */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
export type NativePackage = (typeof NATIVE_PACKAGES)[number];
export type NativeProvider = typeof NATIVE_ADDON | NativePackage;
export const NATIVE_PROVIDERS: readonly NativeProvider[] = [NATIVE_ADDON, ...NATIVE_PACKAGES];

export interface BackendChoice {
  readonly backend: BackendName;
  /** What runs libtensorflow when backend is 'tensorflow'. */
  readonly native?: NativeProvider;
}

/**
 * Pure decision: `auto` prefers native TensorFlow when a provider is installed (the addon first),
 * else wasm. Asking for `tensorflow` without one is an error the caller reports.
 */
export function chooseBackend(selection: RuntimeSelection, installedNative: readonly NativeProvider[]): BackendChoice {
  const native = NATIVE_PROVIDERS.find((p) => installedNative.includes(p));
  switch (selection) {
    case 'auto':
      return native ? { backend: 'tensorflow', native } : { backend: 'wasm' };
    case 'tensorflow':
      if (!native) {
        throw new Error(
          `--runtime=tensorflow needs tfmodel's native engine (npm run native:install) or ${NATIVE_PACKAGES.join(' or ')} installed`,
        );
      }
      return { backend: 'tensorflow', native };
    default:
      return { backend: selection };
  }
}

/**
 * Where `auto` loaded a model on a portable engine and that engine lacks some of its ops: the native
 * provider (our addon first) to load it on instead, if one is installed. Explicit runtimes never switch.
 */
export function nativeFallbackFor(selection: RuntimeSelection, installedNative: readonly NativeProvider[]): NativeProvider | undefined {
  if (selection !== 'auto') return undefined;
  return NATIVE_PROVIDERS.find((p) => installedNative.includes(p));
}
