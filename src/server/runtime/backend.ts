/**
 * Which engine executes SavedModels. `tensorflow` is libtensorflow through @tensorflow/tfjs-node-gpu
 * or @tensorflow/tfjs-node when one is installed (it runs the SavedModel natively, on CUDA with the
 * -gpu package); `wasm` (SIMD) is the portable default; `cpu` is tfjs's plain JavaScript backend.
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type RuntimeSelection = 'auto' | BackendName;

export const RUNTIME_SELECTIONS: readonly RuntimeSelection[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export function parseRuntimeSelection(text: string): RuntimeSelection | undefined {
  return (RUNTIME_SELECTIONS as readonly string[]).includes(text) ? (text as RuntimeSelection) : undefined;
}

/** The native packages in order of preference. */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
export type NativePackage = (typeof NATIVE_PACKAGES)[number];

export interface BackendChoice {
  readonly backend: BackendName;
  /** The native package to load when backend is 'tensorflow'. */
  readonly nativePackage?: NativePackage;
}

/**
 * Pure decision: `auto` prefers native TensorFlow when a package is installed, else wasm.
 * Asking for `tensorflow` without an installed package is an error the caller reports.
 */
export function chooseBackend(selection: RuntimeSelection, installedNative: readonly NativePackage[]): BackendChoice {
  const native = NATIVE_PACKAGES.find((p) => installedNative.includes(p));
  switch (selection) {
    case 'auto':
      return native ? { backend: 'tensorflow', nativePackage: native } : { backend: 'wasm' };
    case 'tensorflow':
      if (!native) {
        throw new Error(
          `--runtime=tensorflow needs ${NATIVE_PACKAGES.join(' or ')} installed (npm install @tensorflow/tfjs-node-gpu)`,
        );
      }
      return { backend: 'tensorflow', nativePackage: native };
    default:
      return { backend: selection };
  }
}

/**
 * Where `auto` loaded a model on a portable engine and that engine lacks some of its ops: the native
 * package to load it on instead, if one is installed. Explicit runtimes never switch.
 */
export function nativeFallbackFor(selection: RuntimeSelection, installedNative: readonly NativePackage[]): NativePackage | undefined {
  if (selection !== 'auto') return undefined;
  return NATIVE_PACKAGES.find((p) => installedNative.includes(p));
}
