/**
 * The one mapping from the serving stack's errors to gRPC statuses (TF Serving's ToGRPCStatus):
 * a ServingError keeps its code (our Code numbers are gRPC's) and its message, cut at 1024
 * characters like TF Serving; anything else is INTERNAL.
 */
import { type StatusObject, status as GrpcStatus } from '@grpc/grpc-js';
import { Code, ServingError } from '../../errors.js';

/** TF Serving's kErrorMessageLimit: longer messages are cut and marked. */
export const ERROR_MESSAGE_LIMIT = 1024;

/** What grpc-js takes to fail a call (no metadata: the trailers are left to grpc-js). */
export type GrpcErrorStatus = Pick<StatusObject, 'code' | 'details'>;

export function toGrpcStatus(error: unknown): GrpcErrorStatus {
  if (error instanceof ServingError && error.code !== Code.OK && Code[error.code] !== undefined) {
    return { code: error.code as number as GrpcStatus, details: limitMessage(error.message) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: GrpcStatus.INTERNAL, details: limitMessage(message) };
}

/** The code a call ended with, for metrics. */
export function codeOf(status: GrpcErrorStatus): Code {
  return status.code as number as Code;
}

function limitMessage(message: string): string {
  return message.length > ERROR_MESSAGE_LIMIT ? `${message.slice(0, ERROR_MESSAGE_LIMIT)}...TRUNCATED` : message;
}
