/**
 * What a tfjs execution error means. A WebAssembly trap ("memory access out of bounds",
 * "unreachable") leaves the wasm heap in an unknown state: the instance that trapped must never
 * run again (the pool replaces its worker; in the calling thread the wasm backend is rebuilt).
 * tfjs's own argument checks throw plain Errors ("Error in conv2d: input must be rank 4"): after
 * the signature check those come from values the request carried (a shape computed from data),
 * which TensorFlow's kernels answer with INVALID_ARGUMENT too. Anything else is ours: INTERNAL.
 */
import { Code, ServingError, toServingError } from '../../errors.js';

/** WebAssembly.RuntimeError (Node's lib typings here do not declare the WebAssembly namespace). */
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: abstract new (...args: never[]) => Error } }).WebAssembly.RuntimeError;

/** A ServingError for a request whose engine instance trapped. */
export class EngineFault extends ServingError {
  constructor(readonly trap: string, options?: { cause?: unknown }) {
    super(Code.INTERNAL, `The inference engine failed (${trap}); this engine instance is discarded and rebuilt`, options);
  }
}

/** True for WebAssembly traps (and errors caused by one). */
export function isWasmTrap(error: unknown): boolean {
  return trapOf(error) !== undefined;
}

/** The WebAssembly trap in an error or its causes. */
function trapOf(error: unknown): Error | undefined {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    if (e instanceof WasmRuntimeError) return e;
    e = (e as Error).cause;
  }
  return undefined;
}

export function classifyRunError(error: unknown): ServingError {
  if (error instanceof EngineFault) return error;
  if (isWasmTrap(error)) return new EngineFault(trapOf(error)!.message, { cause: error });
  if (error instanceof ServingError) return error;
  // tfjs's util.assert and op argument checks throw Error itself; TypeErrors and the like are bugs.
  if (error instanceof Error && Object.getPrototypeOf(error) === Error.prototype) {
    return new ServingError(Code.INVALID_ARGUMENT, error.message, { cause: error });
  }
  return toServingError(error);
}
