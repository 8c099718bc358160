/** The model sources beyond the local file system, by base path scheme. */
import { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { ArchiveSource } from './archive-source.js';
import { AzureStore, splitAzurePath } from './azure-store.js';
import { GcsStore, gcsClient } from './gcs-store.js';
import type { SourceFactory, SourceRegistry } from '../source.js';
import type { ModelCache } from './model-cache.js';
import { splitBucketPath } from './object-store.js';
import { ObjectStoreSource } from './object-store-source.js';
import { S3Store, s3ClientConfig } from './s3-store.js';

export { ModelCache } from './model-cache.js';

export interface ObjectStoreSourcesOptions {
  readonly cache: ModelCache;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * s3:// (TF Serving's S3 environment variables and the AWS credential chain), gs://
 * (Application Default Credentials, STORAGE_EMULATOR_HOST) and az://account/container/prefix
 * (AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN); https:// (and
 * http://) URLs of one .tar.gz / .tgz / .tar / .zip archive of the model's versions.
 */
export function objectStoreSources(options: ObjectStoreSourcesOptions): SourceRegistry {
  let s3: S3Client | undefined;
  const s3Source: SourceFactory = (context) => {
    s3 ??= new S3Client(s3ClientConfig(options.env));
    const { bucket, prefix } = splitBucketPath(context.basePath, 's3');
    return new ObjectStoreSource(context, { store: new S3Store(s3, bucket), prefix, cache: options.cache });
  };
  let gcs: Storage | undefined;
  const gcsSource: SourceFactory = (context) => {
    gcs ??= gcsClient(options.env);
    const { bucket, prefix } = splitBucketPath(context.basePath, 'gs');
    return new ObjectStoreSource(context, { store: new GcsStore(gcs, bucket), prefix, cache: options.cache });
  };
  const azureSource: SourceFactory = (context) => {
    const { account, container, prefix } = splitAzurePath(context.basePath);
    return new ObjectStoreSource(context, { store: new AzureStore(account, container, options.env), prefix, cache: options.cache });
  };
  const archiveSource: SourceFactory = (context) => new ArchiveSource(context, { cache: options.cache });
  return new Map([
    ['s3', s3Source],
    ['gs', gcsSource],
    ['az', azureSource],
    ['https', archiveSource],
    ['http', archiveSource],
  ]);
}
