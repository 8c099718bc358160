/**
 * A real S3-compatible server for tests: versitygw (built from the Go module proxy by
 * scripts/s3-server/build.sh) over a temporary directory, on a free loopback port.
 */
import { mkdirSync } from 'node:fs';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cachedGoTool } from './go-tools.js';
import { freePortSync } from './server-process.js';
import { StoreProcess } from './store-process.js';

export const S3_ACCESS_KEY = 'tfmodel-test-access';
export const S3_SECRET_KEY = 'tfmodel-test-secret-key';

/** The gateway binary, or why it is missing (throws under CI). */
export function s3ServerBinary(): { value?: string; skipReason?: string } {
  return cachedGoTool('the S3-compatible test server (versitygw)', 's3-server');
}

export class S3TestServer {
  readonly port: number;
  private readonly process: StoreProcess;

  constructor(
    binary: string,
    /** The directory the gateway stores buckets in (one subdirectory each). */
    readonly root: string,
  ) {
    this.port = freePortSync();
    mkdirSync(root, { recursive: true });
    this.process = new StoreProcess({
      name: 'versitygw',
      command: binary,
      args: ['--access', S3_ACCESS_KEY, '--secret', S3_SECRET_KEY, '--port', `127.0.0.1:${this.port}`, '--quiet', 'posix', root],
      ready: async () => (await fetch(this.endpoint)).status > 0,
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The environment tfmodel-server reads (TF Serving's S3 variables and the AWS chain). */
  env(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      S3_ENDPOINT: `127.0.0.1:${this.port}`,
      S3_USE_HTTPS: '0',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
      ...overrides,
    };
  }

  client(): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
    });
  }

  /** Starts the gateway (again, after `stop`, on the same port and data) and waits until it answers. */
  start(): Promise<void> {
    return this.process.start();
  }

  stop(): Promise<void> {
    return this.process.stop();
  }

  async createBucket(name: string): Promise<void> {
    await this.client().send(new CreateBucketCommand({ Bucket: name }));
  }

  async put(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
    await this.client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }
}
