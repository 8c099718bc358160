/**
 * Finding the native providers (tfmodel's addon, @tensorflow/tfjs-node(-gpu)) and loading the
 * tfjs-node packages. Those cannot be installed on machines without internet (their install script
 * downloads libtensorflow), so they are never dependencies of ours; we use one when it resolves
 * and our addon is not built.
 */
import { failedPrecondition } from '../../errors.js';
import { NATIVE_ADDON, NATIVE_PACKAGES, type NativePackage, type NativeProvider } from '../backend.js';
import { findAddon } from './tf-addon.js';
import { applyTensorflowEnvDefaults } from './tensorflow-env.js';

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

/** Every installed native provider: the addon when built, then the tfjs-node packages that resolve. */
export async function installedNativeProviders(
  resolver: ModuleResolver = resolves,
  addonPath: () => string | undefined = () => findAddon(),
): Promise<NativeProvider[]> {
  const addon: NativeProvider[] = addonPath() ? [NATIVE_ADDON] : [];
  return [...addon, ...(await installedNativePackages(resolver))];
}

/**
 * Imports a tfjs-node package. Its index runs node-pre-gyp's find(), which parses process.argv
 * with nopt: a CLI flag such as saved-model-cli's `--dir` (an abbreviation of node-pre-gyp's
 * `--directory`), `--debug` or `--arch` would change where it looks for its binding. It sees only
 * node and the script while it loads.
 */
export async function importNativePackage(
  name: NativePackage,
  importer: ModuleImporter = (specifier) => import(specifier),
): Promise<NativeTfModule> {
  let module: unknown;
  const argv = process.argv;
  process.argv = argv.slice(0, 2);
  applyTensorflowEnvDefaults();
  try {
    module = await importer(name);
  } catch (error) {
    throw failedPrecondition(`${name} is installed but failed to load (libtensorflow missing?): ${(error as Error).message}`);
  } finally {
    process.argv = argv;
  }
  const candidate = (module as { default?: unknown }).default ?? module;
  const node = (candidate as Partial<NativeTfModule>).node;
  if (typeof node?.loadSavedModel !== 'function') throw failedPrecondition(`${name} does not provide tf.node.loadSavedModel`);
  return candidate as NativeTfModule;
}
