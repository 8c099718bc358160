/**
 * Reading an API request's body: at most maxBodyBytes (a larger Content-Length is refused before
 * reading; a body that grows past it is refused as soon as it does, and the rest is discarded, not
 * buffered), decompressed when Content-Encoding is gzip, deflate or br, with the same limit on the
 * decompressed size (so a small zip bomb cannot expand in memory).
 */
import { isUtf8 } from 'node:buffer';
import { Code, invalidArgument } from '../../errors.js';
import { decompressBody, isSupportedEncoding } from './body-encoding.js';
import { type ChunkVerdict, watchChunkSizes } from './chunk-sizes.js';
import { errorJson } from './errors.js';
import { type BodyHandler, type RawBodyHandler, type RestRequest, answer, answerError } from './exchange.js';

/** Starts reading; `onBody` gets the text, unless the request was answered with an error. */
export function readBody(req: RestRequest, onBody: BodyHandler): void {
  if (startReading(req)) req.onBody = onBody;
}

/** As readBody, for a body whose bytes are wanted as they are (binary tensor data). */
export function readRawBody(req: RestRequest, onRawBody: RawBodyHandler): void {
  if (startReading(req)) req.onRawBody = onRawBody;
}

function startReading(req: RestRequest): boolean {
  const limit = req.context.maxBodyBytes;
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    tooLarge(req, `Request body of ${declared} bytes exceeds the limit of ${limit} bytes`);
    return false;
  }
  const encoding = contentEncoding(req);
  if (encoding !== undefined && !isSupportedEncoding(encoding)) {
    answer(req, Code.INVALID_ARGUMENT, errorJson(`Unsupported Content-Encoding: ${encoding}`), 415);
    return false;
  }
  if (declared !== undefined && !hold(req, Number(declared))) return false;
  req.heldUpfront = declared !== undefined;
  req.chunks = [];
  req.on('data', onData);
  req.on('end', onEnd);
  if (isChunked(req)) {
    req.unwatchChunks = watchChunkSizes(req.socket, `${req.method} ${req.url} HTTP/`, limit, (verdict) => badChunk(req, verdict));
  }
  return true;
}

function isChunked(req: RestRequest): boolean {
  const header = req.headers['transfer-encoding'];
  return header !== undefined && header.toLowerCase().includes('chunked');
}

/** A chunk size announced past the limit or past int64: refused before its bytes arrive. */
function badChunk(req: RestRequest, verdict: ChunkVerdict): void {
  if (verdict.status === 413) return tooLarge(req, verdict.message);
  req.chunks = undefined;
  answer(req, Code.INVALID_ARGUMENT, errorJson(verdict.message), 400, true);
}

function contentEncoding(req: RestRequest): string | undefined {
  const header = req.headers['content-encoding'];
  if (header === undefined) return undefined;
  const encoding = header.trim().toLowerCase();
  return encoding === '' || encoding === 'identity' ? undefined : encoding;
}

function onData(this: RestRequest, chunk: Buffer): void {
  if (this.chunks === undefined) return;
  this.received += chunk.length;
  if (this.received > this.context.maxBodyBytes) {
    tooLarge(this, `Request body exceeds the limit of ${this.context.maxBodyBytes} bytes`);
    return;
  }
  if (!this.heldUpfront && !hold(this, chunk.length)) return;
  this.chunks.push(chunk);
}

function onEnd(this: RestRequest): void {
  this.unwatchChunks?.();
  this.unwatchChunks = undefined;
  const chunks = this.chunks;
  this.chunks = undefined;
  if (chunks === undefined || (this.onBody === undefined && this.onRawBody === undefined) || this.answered) return;
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.received);
  const encoding = contentEncoding(this);
  if (encoding === undefined) {
    deliver(this, body);
    return;
  }
  decompress(this, encoding, body);
}

/**
 * Text for JSON: UTF-8 as a rule; a body that is not valid UTF-8 is handed on one character per
 * byte (latin1) and marked so, for the parser keeps such bytes in strings as TF Serving does.
 */
function deliver(req: RestRequest, body: Buffer): void {
  if (req.onRawBody) return req.onRawBody(req, body);
  if (isUtf8(body)) return req.onBody!(req, body.toString('utf8'));
  req.latin1Body = true;
  req.onBody!(req, body.toString('latin1'));
}

function decompress(req: RestRequest, encoding: string, body: Buffer): void {
  decompressBody(encoding, body, req.context.maxBodyBytes, (error, inflated) => {
    if (req.answered) return;
    if (!error) deliver(req, inflated);
    else if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      tooLarge(req, `Decompressed request body exceeds the limit of ${req.context.maxBodyBytes} bytes`);
    } else answerError(req, invalidArgument(`Failed to decompress the ${encoding} request body: ${error.message}`));
  });
}

/**
 * Holds request bytes in the in-flight budget shared with gRPC (released when the request's
 * response closes); refuses the request with 429 RESOURCE_EXHAUSTED when they do not fit. The
 * refused body is not held or parsed, but it is read off the wire and discarded (never buffered)
 * before the answer goes out: answering first and closing would reset a client still sending its
 * body (on loopback, once the server answered in microseconds), and it would see a broken pipe
 * instead of the 429 it should back off on.
 */
function hold(req: RestRequest, bytes: number): boolean {
  const budget = req.context.inflightBytes;
  if (budget === undefined || !(bytes > 0)) return true;
  if (budget.tryHold(bytes)) {
    req.heldBytes += bytes;
    return true;
  }
  req.chunks = undefined;
  const refusal = errorJson(budget.refusal(bytes).message);
  req.once('end', () => answer(req, Code.RESOURCE_EXHAUSTED, refusal, 429));
  req.resume();
  return false;
}

/**
 * 413, and the connection closes after the answer: what is still arriving is discarded (node
 * reads it without buffering), never parsed.
 */
function tooLarge(req: RestRequest, message: string): void {
  req.chunks = undefined;
  answer(req, Code.RESOURCE_EXHAUSTED, errorJson(message), 413, true);
}
