/**
 * The protocol's health and metadata calls on the serving core: server and model readiness,
 * server metadata, and a model's metadata (its AVAILABLE versions and the inputs and outputs of
 * the signature, serving_default unless another is named).
 */
import { readFileSync } from 'node:fs';
import type { ServingCore } from '../../core/types.js';
import { DEFAULT_SIGNATURE, VersionState } from '../../core/types.js';
import { ServingError } from '../../errors.js';
import type { TensorSpec } from '../../runtime/savedmodel/signatures.js';
import { findServingSignature, withServable } from '../model-spec.js';
import { datatypeNameOf } from './datatypes.js';
import { modelSpecOf } from './model-version.js';

/** Triton's platform name for TensorFlow SavedModels. */
export const SAVEDMODEL_PLATFORM = 'tensorflow_savedmodel';
export const SERVER_NAME = 'tfmodel-server';
/** What we implement beyond the protocol's core. */
export const SERVER_EXTENSIONS: readonly string[] = ['binary_tensor_data', 'model_repository'];

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  /** -1 for dimensions of unknown size; [-1] when even the rank is unknown. */
  readonly shape: readonly number[];
}

export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

let serverVersion: string | undefined;

export function serverMetadata(): ServerMetadata {
  serverVersion ??= packageVersion();
  return { name: SERVER_NAME, version: serverVersion, extensions: SERVER_EXTENSIONS };
}

export const serverLive = (): boolean => true;

export const serverReady = (core: ServingCore): boolean => core.isReady();

/**
 * True when the version the string names (latest, a number or a label) is AVAILABLE. Unknown
 * models, versions and labels are simply not ready.
 */
export function modelReady(core: ServingCore, name: string, version: string): boolean {
  try {
    core.acquire(modelSpecOf(name, version)).release();
    return true;
  } catch (error) {
    if (error instanceof ServingError) return false;
    throw error;
  }
}

export function modelMetadata(core: ServingCore, name: string, version: string, signatureName = ''): Promise<ModelMetadata> {
  return withServable(core, modelSpecOf(name, version, signatureName), async (handle) => {
    const signature = findServingSignature(handle, signatureName || DEFAULT_SIGNATURE);
    const versions = core.modelStatus(handle.name).versions
      .filter((v) => v.state === VersionState.AVAILABLE)
      .map((v) => String(v.version));
    return {
      name: handle.name,
      versions,
      platform: SAVEDMODEL_PLATFORM,
      inputs: signature.inputs.map(tensorMetadata),
      outputs: signature.outputs.map(tensorMetadata),
    };
  });
}

function tensorMetadata(spec: TensorSpec): TensorMetadata {
  return { name: spec.alias, datatype: datatypeNameOf(spec.dtype), shape: spec.shape ? [...spec.shape] : [-1] };
}

function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../../../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
