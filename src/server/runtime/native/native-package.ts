/**
 * Finding and loading @tensorflow/tfjs-node(-gpu). They cannot be installed on machines without
 * internet (their install script downloads libtensorflow), so they are never dependencies of ours:
 * the GPU image installs one, and we use it when it resolves.
 */
import { failedPrecondition } from '../../errors.js';
import { NATIVE_PACKAGES, type NativePackage } from '../backend.js';

/** The subset of the tfjs-node module we use. */
export interface NativeTfModule {
  readonly node: {
    loadSavedModel(path: string, tags?: string[], signature?: string): Promise<NativeSavedModel>;
  };
  tensor(values: unknown, shape?: number[], dtype?: string): NativeTensor;
}

export interface NativeTensor {
  readonly shape: number[];
  readonly dtype: string;
  data(): Promise<ArrayLike<number> | Uint8Array[] | string[]>;
  /** String tensors: the raw bytes (data() decodes them as UTF-8). */
  bytes?(): Promise<Uint8Array[] | Uint8Array>;
  dispose(): void;
}

export interface NativeSavedModel {
  predict(inputs: Record<string, NativeTensor>): NativeTensor | NativeTensor[] | Record<string, NativeTensor>;
  dispose(): void;
}

export type ModuleResolver = (specifier: string) => boolean;
export type ModuleImporter = (specifier: string) => Promise<unknown>;

const resolves: ModuleResolver = (specifier) => {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
};

export async function installedNativePackages(resolver: ModuleResolver = resolves): Promise<NativePackage[]> {
  return NATIVE_PACKAGES.filter((p) => resolver(p));
}

export async function importNativePackage(
  name: NativePackage,
  importer: ModuleImporter = (specifier) => import(specifier),
): Promise<NativeTfModule> {
  let module: unknown;
  try {
    module = await importer(name);
  } catch (error) {
    throw failedPrecondition(`${name} is installed but failed to load (libtensorflow missing?): ${(error as Error).message}`);
  }
  const candidate = (module as { default?: unknown }).default ?? module;
  const node = (candidate as Partial<NativeTfModule>).node;
  if (typeof node?.loadSavedModel !== 'function') throw failedPrecondition(`${name} does not provide tf.node.loadSavedModel`);
  return candidate as NativeTfModule;
}
