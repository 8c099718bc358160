/**
 * A real GCS JSON API server for tests: fake-gcs-server (built from the Go module proxy by
 * scripts/gcs-server/build.sh) over a temporary directory, on a free loopback port.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { REPO_ROOT } from './corpus.js';
import { requirePrerequisite } from './prerequisites.js';
import { freePortSync } from './server-process.js';

export function gcsServerBinary(): { value?: string; skipReason?: string } {
  return requirePrerequisite('the GCS test server (fake-gcs-server)', 'run bash scripts/gcs-server/build.sh (Go, the Go module proxy)', () =>
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 'gcs-server', 'build.sh'), '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!,
  );
}

export class GcsTestServer {
  private child: ChildProcess | undefined;
  readonly port: number;

  constructor(
    private readonly binary: string,
    readonly root: string,
  ) {
    this.port = freePortSync();
    mkdirSync(root, { recursive: true });
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The environment tfmodel-server reads (host:port, as the other SDKs and gsutil take it). */
  env(): Record<string, string> {
    return { STORAGE_EMULATOR_HOST: this.host };
  }

  client(): Storage {
    return new Storage({ apiEndpoint: `http://${this.host}`, projectId: 'tfmodel-test' });
  }

  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null) return;
    this.child = spawn(
      this.binary,
      ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(this.port), '-backend', 'filesystem', '-filesystem-root', this.root, '-public-host', this.host, '-log-level', 'error'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const started = Date.now();
    for (;;) {
      try {
        const response = await fetch(`http://${this.host}/storage/v1/b`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (this.child.exitCode !== null) throw new Error(`fake-gcs-server exited (${this.child.exitCode})`);
      if (Date.now() - started > 20_000) throw new Error('fake-gcs-server did not start listening in 20 s');
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
    await this.client().createBucket(name);
  }

  async put(bucket: string, key: string, body: Buffer): Promise<void> {
    await this.client().bucket(bucket).file(key).save(body, { resumable: false });
  }
}
