/**
 * gs:// base paths (@google-cloud/storage): Application Default Credentials
 * (GOOGLE_APPLICATION_CREDENTIALS, gcloud's user credentials, the metadata server), or
 * STORAGE_EMULATOR_HOST for an emulator (then without credentials, as the SDK does).
 */
import type { Readable } from 'node:stream';
import { type Bucket, Storage, type StorageOptions } from '@google-cloud/storage';
import type { ObjectStore, StoredObject } from './object-store.js';

/** STORAGE_EMULATOR_HOST as the other SDKs and gsutil take it (host:port or a URL), as a URL. */
function emulatorEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const host = env['STORAGE_EMULATOR_HOST'];
  if (!host) return undefined;
  const url = /^https?:\/\//i.test(host) ? host : `http://${host}`;
  return url.replace(/\/+$/, '').replace(/\/storage\/v1$/, '');
}

export function gcsStorageOptions(env: NodeJS.ProcessEnv = process.env): StorageOptions {
  const emulator = emulatorEndpoint(env);
  return {
    retryOptions: { maxRetries: 1 },
    ...(emulator ? { apiEndpoint: emulator } : {}),
    ...(env['GOOGLE_CLOUD_PROJECT'] ? { projectId: env['GOOGLE_CLOUD_PROJECT'] } : {}),
  };
}

interface ListResponse {
  prefixes?: string[];
  nextPageToken?: string;
}

export class GcsStore implements ObjectStore {
  readonly description: string;
  private readonly bucket: Bucket;

  constructor(storage: Storage, bucket: string) {
    this.description = `gs://${bucket}`;
    this.bucket = storage.bucket(bucket);
  }

  async listChildren(prefix: string): Promise<string[]> {
    const names: string[] = [];
    let pageToken: string | undefined;
    do {
      const [, , response] = await this.bucket.getFiles({ prefix, delimiter: '/', autoPaginate: false, ...(pageToken ? { pageToken } : {}) });
      const page = (response ?? {}) as ListResponse;
      for (const p of page.prefixes ?? []) names.push(p.slice(prefix.length).replace(/\/$/, ''));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return names;
  }

  async listObjects(prefix: string): Promise<StoredObject[]> {
    const [files] = await this.bucket.getFiles({ prefix });
    return files.map((f) => {
      const md5 = f.metadata.md5Hash ? Buffer.from(f.metadata.md5Hash, 'base64').toString('hex') : undefined;
      // The generation changes whenever the object is replaced: the ETag here.
      return { key: f.name, size: Number(f.metadata.size ?? 0), etag: String(f.metadata.generation ?? f.metadata.etag ?? ''), ...(md5 ? { md5 } : {}) };
    });
  }

  async read(key: string): Promise<{ body: Readable; etag: string }> {
    // Sizes, MD5s and a second listing are checked by the source; the SDK's own check is off.
    return { body: this.bucket.file(key).createReadStream({ validation: false }), etag: '' };
  }
}

export function gcsClient(env: NodeJS.ProcessEnv = process.env): Storage {
  const storage = new Storage(gcsStorageOptions(env));
  // The Node SDK takes STORAGE_EMULATOR_HOST from process.env as its whole base URL (with
  // /storage/v1), unlike the other SDKs (host:port): requests go to the JSON API path either way.
  const emulator = emulatorEndpoint(env);
  if (emulator) storage.baseUrl = `${emulator}/storage/v1`;
  return storage;
}
