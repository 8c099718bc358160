/**
 * A real Azure Blob Storage emulator for tests: Azurite (the npm package, a devDependency), its
 * blob service over a temporary directory on a free loopback port, with one account of our own
 * (AZURITE_ACCOUNTS) and no telemetry.
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { requirePrerequisite } from './prerequisites.js';
import { freePortSync } from './server-process.js';
import { StoreProcess } from './store-process.js';

export const AZURE_ACCOUNT = 'tfmodeltest';
export const AZURE_KEY = Buffer.from('tfmodel-test-account-key-0123456789').toString('base64');

/** Azurite's blob service entry point, or why it is missing (throws under CI). */
export function azuriteBlobMain(): { value?: string; skipReason?: string } {
  return requirePrerequisite('Azurite (the npm package azurite)', 'run npm ci (it is a devDependency)', () =>
    join(dirname(createRequire(import.meta.url).resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js'),
  );
}

export class AzureTestServer {
  readonly port: number;
  private readonly process: StoreProcess;

  constructor(
    main: string,
    /** Azurite's workspace (its database and blob extents). */
    readonly root: string,
  ) {
    this.port = freePortSync();
    mkdirSync(root, { recursive: true });
    this.process = new StoreProcess({
      name: 'Azurite',
      command: process.execPath,
      args: [main, '--blobHost', '127.0.0.1', '--blobPort', String(this.port), '--location', root, '--silent', '--disableTelemetry', '--skipApiVersionCheck'],
      env: { ...process.env, AZURITE_ACCOUNTS: `${AZURE_ACCOUNT}:${AZURE_KEY}` },
      ready: async () => (await fetch(`${this.endpoint}?comp=list`)).status > 0,
      // Azurite keeps its index in memory and saves it on exit: a SIGKILL could lose uploads.
      stopSignal: 'SIGTERM',
    });
  }

  /** The account's blob service URL (path-style, as Azurite serves it). */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}/${AZURE_ACCOUNT}`;
  }

  connectionString(key = AZURE_KEY): string {
    return `DefaultEndpointsProtocol=http;AccountName=${AZURE_ACCOUNT};AccountKey=${key};BlobEndpoint=${this.endpoint};`;
  }

  /** The environment tfmodel-server reads. */
  env(overrides: Record<string, string> = {}): Record<string, string> {
    return { AZURE_STORAGE_CONNECTION_STRING: this.connectionString(), ...overrides };
  }

  client(): BlobServiceClient {
    return BlobServiceClient.fromConnectionString(this.connectionString());
  }

  start(): Promise<void> {
    return this.process.start();
  }

  stop(): Promise<void> {
    return this.process.stop();
  }

  async createContainer(name: string): Promise<void> {
    await this.client().getContainerClient(name).create();
  }

  async put(container: string, key: string, body: Buffer): Promise<void> {
    await this.client().getContainerClient(container).getBlockBlobClient(key).uploadData(body);
  }

  async delete(container: string, key: string): Promise<void> {
    await this.client().getContainerClient(container).getBlockBlobClient(key).delete();
  }
}
