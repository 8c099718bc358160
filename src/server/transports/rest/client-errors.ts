/**
 * Requests node's HTTP parser refuses before any handler sees them (NUL or other bad bytes in the
 * URL, a URL or header block over the limit, broken chunked framing, a header timeout): answered
 * with TF Serving's `{"error": ...}` JSON body and a status that says what was wrong, then the
 * connection closes (the parser cannot resynchronise). Node's default answers these with an empty
 * body.
 */
import type { Socket } from 'node:net';
import { errorJson } from './errors.js';

interface ParserError extends Error {
  readonly code?: string;
  readonly reason?: string;
  readonly rawPacket?: Buffer;
}

interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly message: string;
}

const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
};

/** The 'clientError' listener for the REST server. */
export function onClientError(error: ParserError, socket: Socket, maxHeaderBytes: number): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (pending?.headersSent) {
    // Part of an answer is on the wire already: nothing more can be said on this connection.
    socket.destroy();
    return;
  }
  const refusal = refusalFor(error, maxHeaderBytes);
  const body = errorJson(refusal.message);
  socket.end(
    `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // A peer that never reads must not hold the socket open.
  socket.setTimeout(5_000, () => socket.destroy());
}

export function refusalFor(error: ParserError, maxHeaderBytes: number): Refusal {
  const status = statusFor(error, maxHeaderBytes);
  const detail = error.reason ?? error.message.replace(/^Parse Error: /, '');
  const message =
    status === 414
      ? `Request URL exceeds the limit of ${maxHeaderBytes} bytes`
      : status === 431
        ? `Request header fields exceed the limit of ${maxHeaderBytes} bytes`
        : status === 408
          ? 'Request headers not received in time'
          : `Malformed HTTP request: ${detail}${error.code ? ` (${error.code})` : ''}`;
  return { status, reason: REASON_PHRASES[status]!, message };
}

function statusFor(error: ParserError, maxHeaderBytes: number): number {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return urlTooLong(error.rawPacket, maxHeaderBytes) ? 414 : 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

/** The packet starts a request whose request line alone is over the limit. */
function urlTooLong(packet: Buffer | undefined, maxHeaderBytes: number): boolean {
  if (packet === undefined || !/^[A-Z]+ /.test(packet.subarray(0, 16).toString('latin1'))) return false;
  const lineEnd = packet.indexOf('\n');
  return lineEnd < 0 || lineEnd > maxHeaderBytes;
}
