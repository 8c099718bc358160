/**
 * az:// base paths on Azure Blob Storage (@azure/storage-blob), in tensorflow-io's form
 * az://<account>/<container>/<prefix>. Credentials and endpoint, first that is set:
 * AZURE_STORAGE_CONNECTION_STRING (its AccountName must be the URL's account; its BlobEndpoint
 * points at an emulator such as Azurite), else AZURE_STORAGE_KEY (TF_AZURE_STORAGE_KEY, as
 * tensorflow-io names it) as a shared key, else AZURE_STORAGE_SAS_TOKEN, else anonymous (a public
 * container). AZURE_STORAGE_BLOB_ENDPOINT replaces https://<account>.blob.core.windows.net.
 */
import type { Readable } from 'node:stream';
import { AnonymousCredential, BlobServiceClient, type ContainerClient, type StoragePipelineOptions, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { ObjectStore, StoredObject } from './object-store.js';

const PIPELINE: StoragePipelineOptions = { retryOptions: { maxTries: 2, tryTimeoutInMs: 60_000, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 } };

/** az://account/container/some/prefix -> its parts (prefix ends with '/', or '' at the root). */
export function splitAzurePath(url: string): { account: string; container: string; prefix: string } {
  const [account = '', container = '', ...rest] = url.slice('az://'.length).split('/');
  const path = rest.join('/').replace(/^\/+|\/+$/g, '');
  return { account, container, prefix: path ? `${path}/` : '' };
}

/** "AccountName=x;AccountKey=y;..." -> its fields (keys as written). */
function connectionStringFields(connectionString: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return fields;
}

/** The service client for an account, from the environment; throws (without secrets) when the settings contradict the URL. */
export function azureServiceClient(account: string, env: NodeJS.ProcessEnv = process.env): BlobServiceClient {
  const connectionString = env['AZURE_STORAGE_CONNECTION_STRING'];
  if (connectionString) {
    const named = connectionStringFields(connectionString).get('AccountName');
    if (named !== undefined && named !== account) {
      throw new Error(`AZURE_STORAGE_CONNECTION_STRING is for account "${named}", not "${account}" of the base path`);
    }
    return BlobServiceClient.fromConnectionString(connectionString, PIPELINE);
  }
  const endpoint = (env['AZURE_STORAGE_BLOB_ENDPOINT'] || `https://${account}.blob.core.windows.net`).replace(/\/+$/, '');
  const key = env['AZURE_STORAGE_KEY'] || env['TF_AZURE_STORAGE_KEY'];
  if (key) return new BlobServiceClient(endpoint, new StorageSharedKeyCredential(account, key), PIPELINE);
  const sas = env['AZURE_STORAGE_SAS_TOKEN'];
  if (sas) return new BlobServiceClient(`${endpoint}?${sas.replace(/^\?/, '')}`, new AnonymousCredential(), PIPELINE);
  return new BlobServiceClient(endpoint, new AnonymousCredential(), PIPELINE);
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '').toLowerCase();
}

export class AzureStore implements ObjectStore {
  readonly description: string;
  private readonly container: ContainerClient | undefined;
  /** Settings that cannot work (reported by every call, so the source logs it as a listing failure). */
  private readonly settingsError: Error | undefined;

  constructor(account: string, container: string, env: NodeJS.ProcessEnv = process.env) {
    this.description = `az://${account}/${container}`;
    try {
      this.container = azureServiceClient(account, env).getContainerClient(container);
    } catch (error) {
      this.settingsError = error as Error;
    }
  }

  private client(): ContainerClient {
    if (this.settingsError || !this.container) throw this.settingsError ?? new Error('no container client');
    return this.container;
  }

  async listChildren(prefix: string): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.client().listBlobsByHierarchy('/', { prefix }).byPage({ maxPageSize: 1000 })) {
      for (const p of page.segment.blobPrefixes ?? []) names.push(p.name.slice(prefix.length).replace(/\/$/, ''));
    }
    return names;
  }

  async listObjects(prefix: string): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    for await (const page of this.client().listBlobsFlat({ prefix }).byPage({ maxPageSize: 1000 })) {
      for (const blob of page.segment.blobItems) {
        const md5 = blob.properties.contentMD5 ? Buffer.from(blob.properties.contentMD5).toString('hex') : undefined;
        objects.push({ key: blob.name, size: blob.properties.contentLength ?? 0, etag: unquote(blob.properties.etag), ...(md5 ? { md5 } : {}) });
      }
    }
    return objects;
  }

  async read(key: string): Promise<{ body: Readable; etag: string }> {
    // No resumed reads: a download cut off fails, and the source retries the version at the next poll.
    const reply = await this.client().getBlobClient(key).download(0, undefined, { maxRetryRequests: 0 });
    if (!reply.readableStreamBody) throw new Error(`${key}: no body in the reply`);
    return { body: reply.readableStreamBody as Readable, etag: unquote(reply.etag) };
  }
}
