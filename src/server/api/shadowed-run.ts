/**
 * The engine run every inference API makes (Predict, Classify, Regress, MultiInference's tasks and
 * the Open Inference Protocol's infer): in an `inference` span, and, when routing sampled the
 * request for its label's shadow, handing the shadow runner a copy of the call with what the
 * caller got (outputs or the error). The copy only queues here; it runs after the caller's answer.
 */
import { toServingError } from '../errors.js';
import type { ServableHandle } from '../core/types.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { withChildSpan } from '../tracing/tracing.js';
import { inferenceAttributes } from './model-spec.js';

export async function runShadowed(
  handle: ServableHandle,
  signatureName: string,
  inputs: ReadonlyMap<string, HostTensor>,
  outputFilter: readonly string[] | undefined,
): Promise<Map<string, HostTensor>> {
  const shadow = handle.route?.shadow;
  let outputs: Map<string, HostTensor>;
  try {
    outputs = await withChildSpan('inference', () => inferenceAttributes(handle, signatureName), () =>
      handle.engine.run({ signature: signatureName, inputs, outputFilter }));
  } catch (error) {
    shadow?.send({ signatureName, inputs, outputFilter, error: toServingError(error) });
    throw error;
  }
  shadow?.send({ signatureName, inputs, outputFilter, outputs });
  return outputs;
}
