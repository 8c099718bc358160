/**
 * A real GCS JSON API server for tests: fake-gcs-server (built from the Go module proxy by
 * scripts/gcs-server/build.sh) over a temporary directory, on a free loopback port.
 */
import { mkdirSync } from 'node:fs';
import { Storage } from '@google-cloud/storage';
import { cachedGoTool } from './go-tools.js';
import { freePortSync } from './server-process.js';
import { StoreProcess } from './store-process.js';

export function gcsServerBinary(): { value?: string; skipReason?: string } {
  return cachedGoTool('the GCS test server (fake-gcs-server)', 'gcs-server');
}

export class GcsTestServer {
  readonly port: number;
  private readonly process: StoreProcess;

  constructor(
    binary: string,
    readonly root: string,
  ) {
    this.port = freePortSync();
    mkdirSync(root, { recursive: true });
    this.process = new StoreProcess({
      name: 'fake-gcs-server',
      command: binary,
      args: ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(this.port), '-backend', 'filesystem', '-filesystem-root', root, '-public-host', this.host, '-log-level', 'error'],
      ready: async () => (await fetch(`http://${this.host}/storage/v1/b`)).ok,
    });
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

  start(): Promise<void> {
    return this.process.start();
  }

  stop(): Promise<void> {
    return this.process.stop();
  }

  async createBucket(name: string): Promise<void> {
    await this.client().createBucket(name);
  }

  async put(bucket: string, key: string, body: Buffer): Promise<void> {
    await this.client().bucket(bucket).file(key).save(body, { resumable: false });
  }
}
