/**
 * A SavedModel whose graph holds ops the portable engine cannot run: the load fails once, naming
 * every such op and every node that uses it, so one attempt tells the whole story (and `auto` can
 * hand the model to the native engine instead).
 */
import { Code, ServingError } from '../../errors.js';

export const MISSING_OPS_PREFIX = 'Op types not supported by this runtime';

/**
 * What runs them: TensorFlow itself. (DecodeJpeg stays here on purpose: no JavaScript decoder
 * reproduces libjpeg-turbo's IDCT and upsampling bit for bit, and an approximate image would be
 * a wrong answer.)
 */
export const NATIVE_HINT =
  "TensorFlow's native engine runs every op: build it with `npm run native:install`, then serve with --runtime=tensorflow (or auto)";

export class MissingOpsError extends ServingError {
  constructor(readonly ops: ReadonlyMap<string, readonly string[]>) {
    const list = [...ops].map(([op, nodes]) => `${op} (${nodes.length === 1 ? 'node' : 'nodes'} ${nodes.join(', ')})`);
    super(Code.UNIMPLEMENTED, `${MISSING_OPS_PREFIX} (${ops.size}): ${list.join('; ')}. ${NATIVE_HINT}`);
  }
}

/** Also recognises the error after it crossed a worker boundary (code and message only). */
export function isMissingOpsError(error: unknown): boolean {
  return error instanceof ServingError && error.code === Code.UNIMPLEMENTED && error.message.includes(MISSING_OPS_PREFIX);
}
