/**
 * What a model source needs from an object store (S3, GCS, Azure Blob): list one "directory"
 * level, list every object under a prefix, and read one object. Implementations wrap the
 * official SDKs; errors they throw carry the store's own code and message.
 */
import type { Readable } from 'node:stream';

export interface StoredObject {
  /** The full key. */
  readonly key: string;
  readonly size: number;
  /** The store's entity tag, quotes removed ('' when it has none). */
  readonly etag: string;
  /** The object's MD5 (hex) when the store publishes it (S3: a non-multipart ETag; GCS/Azure: Content-MD5). */
  readonly md5?: string;
}

export interface ObjectStore {
  /** "s3://bucket" etc., for messages. */
  readonly description: string;
  /** The immediate child "directories" of `prefix` (which ends with '/'), as names. */
  listChildren(prefix: string): Promise<string[]>;
  /** Every object whose key starts with `prefix`. */
  listObjects(prefix: string): Promise<StoredObject[]>;
  /** The object's bytes, and the etag the store served them with. */
  read(key: string): Promise<{ body: Readable; etag: string }>;
}

/** "bucket/some/prefix" -> { bucket, prefix: "some/prefix/" } ('' when at the bucket's root). */
export function splitBucketPath(url: string, scheme: string): { bucket: string; prefix: string } {
  const rest = url.slice(`${scheme}://`.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return { bucket, prefix: path ? `${path}/` : '' };
}

/** A thrown SDK error as one line: "NoSuchBucket: The specified bucket does not exist". */
export function describeStoreError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { Code?: string; code?: string }).Code ?? (error as { code?: string }).code ?? error.name;
  // AWS: $metadata.httpStatusCode; Azure's RestError: statusCode (and a message of several lines).
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? (error as { statusCode?: number }).statusCode;
  const firstLine = error.message.split('\n')[0]!.trim();
  const message = firstLine && firstLine !== code ? `: ${firstLine}` : '';
  return `${code}${message}${status ? ` (HTTP ${status})` : ''}`;
}
