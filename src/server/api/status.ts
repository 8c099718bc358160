/** GetModelStatus and, beyond TF Serving, the list of every model and a readiness check. */
import { invalidArgument } from '../errors.js';
import type { ModelStatus, ServingCore } from '../core/types.js';

export function modelStatus(core: ServingCore, name: string, version?: bigint): ModelStatus {
  if (!name) throw invalidArgument('Missing model name in request.');
  return core.modelStatus(name, version);
}

export function listModels(core: ServingCore): ModelStatus[] {
  return core.listModels();
}

export function isReady(core: ServingCore): boolean {
  return core.isReady();
}
