/** Errors the controller loop treats specially, and reading HTTP statuses off client-node errors. */

/**
 * Thrown by a reconciler for a failure retrying cannot fix (an invalid spec the CRD's validation
 * let through): logged and counted, but the key is not requeued until its object changes again.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/**
 * The HTTP status of a failed Kubernetes call, if it has one. client-node 1.x API calls reject
 * with ApiException (`code`, plus `body` as the raw JSON text of the Status); its watch rejects
 * with an Error carrying `statusCode`. Network errors have neither.
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
