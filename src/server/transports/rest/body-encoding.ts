/**
 * Decompressing a request body (Content-Encoding gzip, x-gzip, deflate or br) on zlib's thread
 * pool, with the body limit on the decompressed size (ERR_BUFFER_TOO_LARGE as soon as the output
 * passes it, so a small bomb never expands in memory).
 *
 * zlib hands the output back one chunk per round trip through the event loop; with its default
 * 16 KiB chunks a 64 MiB bomb took 4,096 round trips before its 413, ~1 s alone and 20 s (a 504)
 * when the loop was busy with other requests (the release fuzz run, case 72,724). The chunk is
 * sized from the compressed length instead: the output deflate can make from it, up to 1 MiB,
 * so a bomb reaches the 64 MiB limit in about 64 round trips and a small body still gets a small
 * buffer.
 */
import { brotliDecompress, gunzip, inflate, inflateRaw, type InputType, type ZlibOptions } from 'node:zlib';

type Decompress = (input: InputType, options: ZlibOptions, callback: (error: Error | null, result: Buffer) => void) => void;

const DECOMPRESSORS: ReadonlyMap<string, Decompress> = new Map<string, Decompress>([
  ['gzip', gunzip],
  ['x-gzip', gunzip],
  ['deflate', inflateWithRawFallback],
  ['br', brotliDecompress],
]);

/** zlib's own default output chunk. */
const MIN_CHUNK_BYTES = 16 * 1024;
/** The largest output chunk (one round trip through the event loop each). */
export const MAX_CHUNK_BYTES = 1024 * 1024;
/** deflate's largest expansion (~1032:1; brotli can exceed it, then the chunk is simply the largest). */
const DEFLATE_MAX_RATIO = 1032;

export function isSupportedEncoding(encoding: string): boolean {
  return DECOMPRESSORS.has(encoding);
}

/** zlib's output chunk for a body of `compressedBytes` whose output may reach `limit` bytes. */
export function decompressChunkBytes(compressedBytes: number, limit: number): number {
  const expected = Math.max(MIN_CHUNK_BYTES, compressedBytes * DEFLATE_MAX_RATIO);
  return Math.max(MIN_CHUNK_BYTES, Math.min(MAX_CHUNK_BYTES, expected, limit + 1));
}

/**
 * Decompresses `body` (encoding: one isSupportedEncoding accepts); the error of an output past
 * `limit` has code ERR_BUFFER_TOO_LARGE.
 */
export function decompressBody(encoding: string, body: Buffer, limit: number, callback: (error: Error | null, result: Buffer) => void): void {
  const chunkSize = decompressChunkBytes(body.length, limit);
  DECOMPRESSORS.get(encoding)!(body, { maxOutputLength: limit, chunkSize }, callback);
}

/** HTTP's "deflate" is zlib-wrapped, but some clients send raw deflate. */
function inflateWithRawFallback(input: InputType, options: ZlibOptions, callback: (error: Error | null, result: Buffer) => void): void {
  inflate(input, options, (error, result) => {
    if (error && (error as NodeJS.ErrnoException).code === 'Z_DATA_ERROR') inflateRaw(input, options, callback);
    else callback(error, result);
  });
}
