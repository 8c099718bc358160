/**
 * The protocol's model version string, read the TF Serving way: empty is the latest AVAILABLE
 * version, an integer is that version, anything else is a version label ("stable"). The label is
 * resolved where every label is, when the servable is acquired (ModelManager.acquire).
 */
import type { ModelSpecRequest } from '../../core/types.js';
import { invalidArgument } from '../../errors.js';

const INT64_MAX = (1n << 63n) - 1n;

export function modelSpecOf(name: string, version: string, signatureName = ''): ModelSpecRequest {
  if (version === '') return { name, signatureName };
  if (/^\d+$/.test(version)) {
    const number = BigInt(version);
    if (number > INT64_MAX) throw invalidArgument(`Failed to convert version: ${version} to numeric.`);
    return { name, version: number, signatureName };
  }
  return { name, label: version, signatureName };
}
