/**
 * Checks a request against a signature the way TensorFlow Serving's predict path does: the input
 * aliases must be exactly the signature's, output filters must name its outputs, and dtypes must
 * match (TensorFlow's session does that check; its wording is kept). Shapes are not checked: like
 * TensorFlow, we let the ops decide (half_plus_two declares x as [-1,1] and serves [3]).
 */
import { invalidArgument } from '../errors.js';
import type { SignatureInfo, TensorSpec } from './savedmodel/signatures.js';
import { type DataType, tfDtypeString } from './tensor/dtypes.js';
import type { HostTensor } from './tensor/host-tensor.js';

export type TensorMap = ReadonlyMap<string, HostTensor>;

/**
 * `feedDtypes` (alias -> dtype) overrides the signature's dtypes with those of the graph's feed
 * points, which is what TensorFlow checks against.
 */
export function validateInputs(signature: SignatureInfo, inputs: TensorMap, feedDtypes?: ReadonlyMap<string, DataType>): void {
  const expected = signature.inputs.map((s) => s.alias);
  const sent = [...inputs.keys()].sort();
  if (sent.length !== expected.length) {
    const extra = sent.filter((a) => !expected.includes(a));
    const missing = expected.filter((a) => !inputs.has(a));
    throw invalidArgument(
      `input size does not match signature: ${sent.length}!=${expected.length} len({${sent.join(',')}}) != ` +
        `len({${expected.join(',')}}). Sent extra: {${extra.join(',')}}. Missing but required: {${missing.join(',')}}.`,
    );
  }
  signature.inputs.forEach((spec, index) => {
    const tensor = inputs.get(spec.alias);
    if (!tensor) {
      throw invalidArgument(
        `input tensor alias not found in signature: ${sent.find((a) => !expected.includes(a))}. ` +
          `Inputs expected to be in the set {${expected.join(',')}}.`,
      );
    }
    const expectedDtype = feedDtypes?.get(spec.alias) ?? spec.dtype;
    if (tensor.dtype !== expectedDtype) {
      throw invalidArgument(`Expects arg[${index}] to be ${tfDtypeString(expectedDtype)} but ${tfDtypeString(tensor.dtype)} is provided`);
    }
  });
}

/** The outputs to compute: all of them, or the requested subset in request order. */
export function selectOutputs(signature: SignatureInfo, filter: readonly string[] | undefined): TensorSpec[] {
  if (!filter || filter.length === 0) return [...signature.outputs];
  const seen = new Set<string>();
  return filter.map((alias) => {
    if (seen.has(alias)) throw invalidArgument(`duplicate output tensor alias: ${alias}`);
    seen.add(alias);
    const spec = signature.outputs.find((o) => o.alias === alias);
    if (!spec) {
      throw invalidArgument(
        `output tensor alias not found in signature: ${alias} Outputs expected to be in the set {${signature.outputs.map((o) => o.alias).join(',')}}.`,
      );
    }
    return spec;
  });
}
