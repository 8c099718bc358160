/**
 * The operator's admin key (render/admin-token.ts derives every TFModel's token from it): one
 * Secret in the operator's own namespace, read by name (the only Secret the RBAC lets it read) and
 * created with 32 random bytes when absent. Read once and kept in memory; a failed read is retried
 * on the next call. The key is never logged.
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { FIELD_MANAGER, LABEL_COMPONENT, LABEL_MANAGED_BY } from '../api/tfmodel.js';
import { ADMIN_KEY_DATA_KEY, ADMIN_KEY_MIN_BYTES } from '../render/admin-token.js';
import { httpStatusOf } from './cluster-writer.js';

export type AdminKeySource = () => Promise<Buffer>;

/** What the key store needs of the API (CoreV1Api provides it). */
export type SecretsApi = Pick<CoreV1Api, 'readNamespacedSecret' | 'createNamespacedSecret'>;

export function kubeAdminKey(api: SecretsApi, namespace: string, name: string): AdminKeySource {
  let cached: Promise<Buffer> | undefined;
  return () => {
    cached ??= loadOrCreate(api, namespace, name).catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}

async function loadOrCreate(api: SecretsApi, namespace: string, name: string): Promise<Buffer> {
  const existing = await read(api, namespace, name);
  if (existing) return keyOf(existing, namespace, name);
  const body: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { [LABEL_MANAGED_BY]: FIELD_MANAGER, [LABEL_COMPONENT]: 'admin-key' } },
    type: 'Opaque',
    immutable: true,
    data: { [ADMIN_KEY_DATA_KEY]: randomBytes(32).toString('base64') },
  };
  try {
    return keyOf(await api.createNamespacedSecret({ namespace, body }), namespace, name);
  } catch (error) {
    if (httpStatusOf(error) !== 409) throw error;
    // Another replica created it first: use theirs.
    const raced = await read(api, namespace, name);
    if (!raced) throw new Error(`Secret ${namespace}/${name}: create said it exists, read says it does not`, { cause: error });
    return keyOf(raced, namespace, name);
  }
}

async function read(api: SecretsApi, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await api.readNamespacedSecret({ namespace, name });
  } catch (error) {
    if (httpStatusOf(error) === 404) return undefined;
    throw error;
  }
}

function keyOf(secret: V1Secret, namespace: string, name: string): Buffer {
  const encoded = secret.data?.[ADMIN_KEY_DATA_KEY];
  const key = encoded === undefined ? undefined : Buffer.from(encoded, 'base64');
  if (!key || key.length < ADMIN_KEY_MIN_BYTES) {
    throw new Error(`Secret ${namespace}/${name} has no data key "${ADMIN_KEY_DATA_KEY}" of at least ${ADMIN_KEY_MIN_BYTES} bytes; delete it and the operator creates a new key`);
  }
  return key;
}
