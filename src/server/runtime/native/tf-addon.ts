/**
 * Finding and loading tfmodel's own native addon (src/server/runtime/native/addon, built by
 * `npm run native:install` against the pinned TensorFlow wheel's C API). It is never a dependency:
 * without it the runtime uses the portable engines.
 *
 * Where: $TFMODEL_NATIVE_ADDON (a path to tfmodel_tf.node), else the install script's links in the
 * cache directory, native-gpu before native-cpu.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { failedPrecondition } from '../../errors.js';
import { applyTensorflowEnvDefaults } from './tensorflow-env.js';

/** The addon's interface version this code speaks (kAbiVersion in addon/addon.cc). */
export const ADDON_ABI_VERSION = 2;

export const ADDON_INSTALL_HINT = 'build it with `npm run native:install` (scripts/native/install.sh)';

/** A fed tensor: numeric data as a typed array over exactly its elements, strings as byte arrays. */
export interface AddonFeed {
  readonly name: string;
  readonly dtype: number;
  readonly shape: readonly number[];
  readonly data: ArrayBufferView | readonly Uint8Array[];
}

/** A fetched tensor: numeric data as an ArrayBuffer over TensorFlow's own buffer. */
export interface AddonOutput {
  readonly dtype: number;
  readonly shape: number[];
  readonly data: ArrayBuffer | Uint8Array[];
}

export interface RestoreEntry {
  readonly handle: string;
  readonly key: string;
  readonly dtype: number;
}

/** An opaque TF_Session (with its graph). */
export type AddonSession = { readonly __tfSession: unique symbol };

export interface TfAddon {
  readonly abiVersion: number;
  tensorflowVersion(): string;
  loadSession(exportDir: string, tags: readonly string[], config: Uint8Array | null): Promise<AddonSession>;
  /** runOptions: a serialized RunOptions for TF_SessionRun (run-options.ts), null for TensorFlow's defaults. */
  run(session: AddonSession, feeds: readonly AddonFeed[], fetches: readonly string[], targets: readonly string[], runOptions?: Uint8Array | null): Promise<AddonOutput[]>;
  /** Restores resource variables (VarHandleOp names) from checkpoint keys, in the session. */
  restoreVariables(session: AddonSession, checkpointPrefix: string, entries: readonly RestoreEntry[]): Promise<void>;
  /**
   * Closes the session; resolves once TensorFlow has freed it and its graph, which runs on a
   * thread of its own at a lower priority after the last run in flight (addons built before that
   * return undefined, freeing it in the call).
   */
  closeSession(session: AddonSession): Promise<void> | void;
  /**
   * glibc's malloc_trim(0) on a thread of its own at a lower priority: free heap pages of every
   * arena back to the system; true when some were. Absent from addons built before it.
   */
  trimMemory?(): Promise<boolean>;
  /** The ConfigProto TensorFlow's SessionOptions hold after TF_SetConfig(config), serialized by TensorFlow. */
  sessionOptionsView(config: Uint8Array): Uint8Array;
}

export function nativeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['TFMODEL_CACHE_DIR'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'tfmodel');
}

/** The addon file to load, or undefined when none is installed. */
export function findAddon(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): string | undefined {
  const explicit = env['TFMODEL_NATIVE_ADDON'];
  if (explicit) return explicit;
  for (const variant of ['gpu', 'cpu']) {
    const candidate = join(nativeCacheDir(env), `native-${variant}`, 'tfmodel_tf.node');
    if (exists(candidate)) return candidate;
  }
  return undefined;
}

let loaded: { path: string; addon: TfAddon } | undefined;

/** Loads the addon once per process (libtensorflow is loaded with it). */
export function loadAddon(path: string | undefined = findAddon()): TfAddon {
  if (!path) throw failedPrecondition(`tfmodel's native TensorFlow engine is not installed; ${ADDON_INSTALL_HINT}`);
  if (loaded?.path === path) return loaded.addon;
  let addon: TfAddon;
  applyTensorflowEnvDefaults();
  try {
    addon = createRequire(import.meta.url)(path) as TfAddon;
  } catch (error) {
    throw failedPrecondition(`tfmodel's native TensorFlow engine at ${path} failed to load: ${(error as Error).message}; ${ADDON_INSTALL_HINT}`);
  }
  if (addon.abiVersion !== ADDON_ABI_VERSION) {
    throw failedPrecondition(
      `tfmodel's native TensorFlow engine at ${path} speaks interface ${addon.abiVersion}, this build needs ${ADDON_ABI_VERSION}; rebuild it: ${ADDON_INSTALL_HINT}`,
    );
  }
  loaded = { path, addon };
  return addon;
}
