/**
 * Chunk sizes of a `Transfer-Encoding: chunked` body, read off the raw connection. Node's parser
 * accepts any chunk size that fits 64 bits (`ffffffffffffffff`) and then waits for that many bytes,
 * so a request that announces an impossible chunk would sit until the request timeout. Watching
 * the framing lets the server refuse it at once: a size no int64 can hold is a malformed body
 * (400, as TF Serving's HTTP layer rejects it), a size past the body limit is refused like a large
 * Content-Length (413). Only chunked requests are watched (the socket then feeds the parser from
 * JavaScript instead of natively); the watch ends with the body.
 */
import type { Socket } from 'node:net';

export type ChunkVerdict = { readonly status: 400 | 413; readonly message: string };
export type OnBadChunk = (verdict: ChunkVerdict) => void;

const enum State {
  Size,
  Extension,
  Data,
  DataEnd,
  Trailer,
  Done,
}

/** Scans chunk framing bytes; `feed` reports the first impossible size, then ignores the rest. */
export class ChunkSizeScanner {
  private state = State.Size;
  /** Significant hex digits of the size being read (leading zeros dropped). */
  private digits = '';
  private remaining = 0;
  private declared = 0;
  private trailerLineLength = 0;

  constructor(private readonly limit: number) {}

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Undefined while the framing is acceptable (or malformed in ways node's parser itself rejects). */
  feed(bytes: Buffer, from = 0): ChunkVerdict | undefined {
    let i = from;
    while (i < bytes.length && this.state !== State.Done) {
      const byte = bytes[i]!;
      switch (this.state) {
        case State.Size: {
          const verdict = this.sizeByte(byte);
          if (verdict) return verdict;
          i++;
          break;
        }
        case State.Extension:
          if (byte === 0x0a) this.endSizeLine();
          i++;
          break;
        case State.Data: {
          const take = Math.min(this.remaining, bytes.length - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = State.DataEnd;
          break;
        }
        case State.DataEnd:
          if (byte === 0x0a) this.state = State.Size;
          i++;
          break;
        case State.Trailer:
          if (byte === 0x0a) {
            if (this.trailerLineLength === 0) this.state = State.Done;
            this.trailerLineLength = 0;
          } else if (byte !== 0x0d) this.trailerLineLength++;
          i++;
          break;
      }
    }
    return undefined;
  }

  private sizeByte(byte: number): ChunkVerdict | undefined {
    const digit = hexValue(byte);
    if (digit >= 0) {
      if (digit > 0 || this.digits.length > 0) this.digits += String.fromCharCode(byte);
      return this.digits.length > 16 ? this.refuse(400) : undefined;
    }
    if (byte !== 0x0d && byte !== 0x0a && byte !== 0x3b && byte !== 0x20 && byte !== 0x09) {
      this.state = State.Done; // not chunk framing: node's parser refuses it
      return undefined;
    }
    const digits = this.digits;
    if (digits.length === 16 && hexValue(digits.charCodeAt(0)) >= 8) return this.refuse(400);
    if (this.declared + Number.parseInt(digits || '0', 16) > this.limit) return this.refuse(413);
    if (byte === 0x0a) this.endSizeLine();
    else this.state = State.Extension;
    return undefined;
  }

  private refuse(status: 400 | 413): ChunkVerdict {
    this.state = State.Done;
    return status === 400
      ? { status, message: `Malformed chunked request body: chunk size 0x${this.digits} does not fit an int64` }
      : { status, message: `Request body exceeds the limit of ${this.limit} bytes` };
  }

  private endSizeLine(): void {
    const size = this.digits.length === 0 ? 0 : Number.parseInt(this.digits, 16);
    this.digits = '';
    this.declared += size;
    if (size === 0) {
      this.state = State.Trailer;
      this.trailerLineLength = 0;
    } else {
      this.remaining = size;
      this.state = State.Data;
    }
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

interface HttpParser {
  getCurrentBuffer?: () => Buffer;
}

/**
 * Watches the chunked body of the request whose headers node's parser has just completed (call
 * from the request handler). Returns a function that stops watching.
 */
export function watchChunkSizes(socket: Socket, requestLine: string, limit: number, onBad: OnBadChunk): () => void {
  const scanner = new ChunkSizeScanner(limit);
  // The bytes the parser is executing now hold the end of the headers and often the first chunks.
  const current = (socket as Socket & { parser?: HttpParser }).parser?.getCurrentBuffer?.();
  if (current !== undefined) {
    const lineAt = current.indexOf(requestLine, 0, 'latin1');
    const headersEnd = current.indexOf('\r\n\r\n', Math.max(lineAt, 0));
    if (headersEnd >= 0) {
      const verdict = scanner.feed(current, headersEnd + 4);
      if (verdict) {
        onBad(verdict);
        return () => undefined;
      }
    }
  }
  if (scanner.done) return () => undefined;
  const onData = (bytes: Buffer): void => {
    const verdict = scanner.feed(bytes);
    if (verdict || scanner.done) socket.off('data', onData);
    if (verdict) onBad(verdict);
  };
  socket.on('data', onData);
  return () => socket.off('data', onData);
}
