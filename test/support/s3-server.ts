/**
 * A real S3-compatible server for tests: versitygw (built from the Go module proxy by
 * scripts/s3-server/build.sh) over a temporary directory, on a free loopback port.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { REPO_ROOT } from './corpus.js';
import { requirePrerequisite } from './prerequisites.js';
import { freePortSync } from './server-process.js';

export const S3_ACCESS_KEY = 'tfmodel-test-access';
export const S3_SECRET_KEY = 'tfmodel-test-secret-key';

/** The gateway binary, or why it is missing (throws under CI). */
export function s3ServerBinary(): { value?: string; skipReason?: string } {
  return requirePrerequisite('the S3-compatible test server (versitygw)', 'run bash scripts/s3-server/build.sh (Go, the Go module proxy)', () =>
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 's3-server', 'build.sh'), '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!,
  );
}

export class S3TestServer {
  private child: ChildProcess | undefined;
  readonly port: number;

  constructor(
    private readonly binary: string,
    /** The directory the gateway stores buckets in (one subdirectory each). */
    readonly root: string,
  ) {
    this.port = freePortSync();
    mkdirSync(root, { recursive: true });
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
  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null) return;
    this.child = spawn(this.binary, ['--access', S3_ACCESS_KEY, '--secret', S3_SECRET_KEY, '--port', `127.0.0.1:${this.port}`, '--quiet', 'posix', this.root], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const started = Date.now();
    for (;;) {
      try {
        const response = await fetch(this.endpoint);
        if (response.status > 0) return;
      } catch {
        // not listening yet
      }
      if (this.child.exitCode !== null) throw new Error(`versitygw exited (${this.child.exitCode})`);
      if (Date.now() - started > 20_000) throw new Error('versitygw did not start listening in 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async createBucket(name: string): Promise<void> {
    await this.client().send(new CreateBucketCommand({ Bucket: name }));
  }

  async put(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
    await this.client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }
}
