/**
 * s3:// base paths, on any S3-compatible store, configured as TF Serving's S3 file system is:
 * S3_ENDPOINT (host:port, or a URL), S3_USE_HTTPS (default 1), S3_VERIFY_SSL (default 1),
 * AWS_REGION (default us-east-1), and the standard AWS credential chain (AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, shared config and credentials files, web identity,
 * container and instance metadata). With an S3_ENDPOINT, buckets are addressed path-style.
 */
import { Agent } from 'node:https';
import type { Readable } from 'node:stream';
import type { S3Client} from '@aws-sdk/client-s3';
import { GetObjectCommand, ListObjectsV2Command, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ObjectStore, StoredObject } from './object-store.js';

const MD5_ETAG = /^[0-9a-f]{32}$/;

const isOff = (value: string | undefined): boolean => value !== undefined && ['0', 'false', 'no'].includes(value.trim().toLowerCase());

/** The S3 client TF Serving's environment variables describe. */
export function s3ClientConfig(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const config: S3ClientConfig = { region: env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1', maxAttempts: 2 };
  const endpoint = env['S3_ENDPOINT'];
  const https = !isOff(env['S3_USE_HTTPS']);
  if (endpoint) {
    config.endpoint = /^https?:\/\//i.test(endpoint) ? endpoint : `${https ? 'https' : 'http'}://${endpoint}`;
    config.forcePathStyle = true;
  }
  // The chain's first provider (environment variables), read from `env`; otherwise the whole chain.
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId && secretAccessKey) {
    const sessionToken = env['AWS_SESSION_TOKEN'];
    config.credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  const verify = !isOff(env['S3_VERIFY_SSL']);
  config.requestHandler = new NodeHttpHandler({
    connectionTimeout: 5_000,
    requestTimeout: 60_000,
    ...(verify ? {} : { httpsAgent: new Agent({ rejectUnauthorized: false }) }),
  });
  return config;
}

export class S3Store implements ObjectStore {
  readonly description: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {
    this.description = `s3://${bucket}`;
  }

  async listChildren(prefix: string): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) names.push(p.Prefix.slice(prefix.length).replace(/\/$/, ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names;
  }

  async listObjects(prefix: string): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        const etag = unquote(o.ETag);
        objects.push({ key: o.Key, size: o.Size ?? 0, etag, ...(MD5_ETAG.test(etag) ? { md5: etag } : {}) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  async read(key: string): Promise<{ body: Readable; etag: string }> {
    const reply = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return { body: reply.Body as Readable, etag: unquote(reply.ETag) };
  }
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '').toLowerCase();
}
