/**
 * The one place a ServingError's gRPC code becomes an HTTP status (TF Serving's ToHTTPStatusCode in
 * model_servers/http_server.cc), and the `{"error": ...}` body every failed REST call carries.
 */
import { Code } from '../../errors.js';

const HTTP_STATUS_BY_CODE: Readonly<Record<Code, number>> = {
  [Code.OK]: 200,
  [Code.CANCELLED]: 499,
  [Code.UNKNOWN]: 500,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.DEADLINE_EXCEEDED]: 504,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.PERMISSION_DENIED]: 403,
  [Code.RESOURCE_EXHAUSTED]: 429,
  [Code.FAILED_PRECONDITION]: 400,
  [Code.ABORTED]: 409,
  [Code.OUT_OF_RANGE]: 400,
  [Code.UNIMPLEMENTED]: 501,
  [Code.INTERNAL]: 500,
  [Code.UNAVAILABLE]: 503,
  [Code.DATA_LOSS]: 500,
  [Code.UNAUTHENTICATED]: 401,
};

/** HTTP status for a gRPC code; codes outside the enum are server errors, as in TF Serving. */
export function httpStatusOf(code: Code): number {
  return HTTP_STATUS_BY_CODE[code] ?? 500;
}

/** `{"error":"<message>"}`, TF Serving's error body (MakeJsonFromStatus). */
export function errorJson(message: string): string {
  return `{"error":${JSON.stringify(message)}}`;
}
