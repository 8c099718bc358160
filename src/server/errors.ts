/**
 * One error type for the whole serving stack, carrying a gRPC status code like TensorFlow's Status.
 * Transports map the code to their own status in exactly one place each.
 */

/** gRPC status codes (same numbers as grpc::StatusCode and tensorflow::error::Code). */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

export class ServingError extends Error {
  override readonly name = 'ServingError';

  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** "INVALID_ARGUMENT: message", the way TensorFlow prints a Status. */
  override toString(): string {
    return `${Code[this.code]}: ${this.message}`;
  }

  /** Plain data for structured copies (worker threads) and logs. */
  toJSON(): { code: Code; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const invalidArgument = (message: string): ServingError => new ServingError(Code.INVALID_ARGUMENT, message);
export const notFound = (message: string): ServingError => new ServingError(Code.NOT_FOUND, message);
export const failedPrecondition = (message: string): ServingError =>
  new ServingError(Code.FAILED_PRECONDITION, message);
export const unimplemented = (message: string): ServingError => new ServingError(Code.UNIMPLEMENTED, message);
export const dataLoss = (message: string): ServingError => new ServingError(Code.DATA_LOSS, message);
export const internal = (message: string): ServingError => new ServingError(Code.INTERNAL, message);

/**
 * Wraps anything thrown into a ServingError. Errors that are not ours become INTERNAL (or
 * UNKNOWN for non-Error values), keeping the original as the cause.
 */
export function toServingError(error: unknown, context?: string): ServingError {
  if (error instanceof ServingError) return error;
  const prefix = context ? `${context}: ` : '';
  if (error instanceof Error) return new ServingError(Code.INTERNAL, prefix + error.message, { cause: error });
  return new ServingError(Code.UNKNOWN, prefix + String(error));
}

/** Rebuilds a ServingError that crossed a structured-clone boundary (worker threads). */
export function fromPlainError(plain: { code: Code; message: string }): ServingError {
  return new ServingError(plain.code, plain.message);
}
