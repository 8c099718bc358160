/** Resolving a request's model spec and signature, shared by every API. */
import type { SignatureInfo } from '../runtime/savedmodel/signatures.js';
import { failedPrecondition } from '../errors.js';
import { DEFAULT_SIGNATURE, type ModelSpecRequest, type ServableHandle, type ServingCore } from '../core/types.js';

/** The model spec a response reports: the version actually used. */
export interface ResolvedModelSpec {
  readonly name: string;
  readonly version: bigint;
  readonly signatureName: string;
}

export const signatureNameOf = (spec: ModelSpecRequest): string => spec.signatureName || DEFAULT_SIGNATURE;

/** TF Serving's lookup error for a signature key the SavedModel lacks. */
export function findServingSignature(handle: ServableHandle, name: string): SignatureInfo {
  const signature = handle.signatures.find((s) => s.key === name);
  if (!signature) throw failedPrecondition(`Serving signature key "${name}" not found.`);
  return signature;
}

/** Acquires the servable, runs `body`, always releases. */
export async function withServable<T>(core: ServingCore, spec: ModelSpecRequest, body: (handle: ServableHandle) => Promise<T>): Promise<T> {
  const handle = core.acquire(spec);
  spec.requestKeys?.onVersion?.(handle.version);
  try {
    return await body(handle);
  } finally {
    handle.release();
  }
}

export function resolvedSpec(handle: ServableHandle, signatureName: string): ResolvedModelSpec {
  return { name: handle.name, version: handle.version, signatureName };
}

/** The attributes of an inference span. */
export function inferenceAttributes(handle: ServableHandle, signatureName: string): Record<string, string> {
  return { 'tfmodel.model': handle.name, 'tfmodel.version': String(handle.version), 'tfmodel.signature': signatureName, 'tfmodel.engine': handle.engine.backend };
}
