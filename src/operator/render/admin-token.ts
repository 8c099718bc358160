/**
 * The admin token of a TFModel's serving pods (issue 7 item 8): tfmodel-server runs with
 * --admin_token_file, so only the operator may reload its config or change its routing.
 *
 * Least privilege decides the shape. The operator may create Secrets but never read one it did
 * not name in its RBAC (a `get` on every Secret of the watched namespaces is what a token read back
 * per TFModel would need). So it holds one random key (a Secret in its own namespace, the only one
 * it reads, by name) and derives each TFModel's token from it: HMAC-SHA256(key, TFModel UID). The
 * token's Secret is written once, by a create, and never read back; its name carries the key's id,
 * so a new key (the key Secret deleted) means new Secret names, a pod template change and pods
 * restarted with the new tokens, never pods holding a token the operator no longer knows.
 * Pure functions; the key's Secret is read and created by kube/admin-key.ts.
 */
import { createHash, createHmac } from 'node:crypto';
import type { V1Secret, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { TFModel } from '../api/tfmodel.js';
import { ownedMetadata } from './metadata.js';

/** Where the serving container finds its token (a read-only Secret volume). */
export const ADMIN_TOKEN_DIR = '/var/run/secrets/tfmodel.dev/admin';
/** The Secret's key, and the file name in ADMIN_TOKEN_DIR. */
export const ADMIN_TOKEN_KEY = 'token';
export const ADMIN_TOKEN_FILE = `${ADMIN_TOKEN_DIR}/${ADMIN_TOKEN_KEY}`;
/** The key Secret's data key (in the operator's namespace). */
export const ADMIN_KEY_DATA_KEY = 'key';
/** At least this many bytes of key; shorter (a hand-made Secret) is refused. */
export const ADMIN_KEY_MIN_BYTES = 32;

/** What a reconcile needs to protect a TFModel's pods: the Secret to mount and the token to send. */
export interface AdminCredentials {
  readonly secretName: string;
  readonly token: string;
}

/** A short public id of the key (in Secret names): a hash, which reveals nothing of the key. */
export function adminKeyId(key: Buffer): string {
  return createHash('sha256').update('tfmodel-admin-key-id\0').update(key).digest('hex').slice(0, 10);
}

export function adminCredentials(key: Buffer, tfmodel: TFModel): AdminCredentials {
  const uid = tfmodel.metadata.uid;
  if (!uid) throw new Error(`TFModel ${tfmodel.metadata.namespace}/${tfmodel.metadata.name} has no uid`);
  if (key.length < ADMIN_KEY_MIN_BYTES) throw new Error(`the admin key has ${key.length} bytes; at least ${ADMIN_KEY_MIN_BYTES} are needed`);
  return {
    secretName: `${tfmodel.metadata.name}-server-admin-${adminKeyId(key)}`,
    token: createHmac('sha256', key).update(`tfmodel-admin-token\0${uid}`).digest('base64url'),
  };
}

/** The TFModel's token Secret, controlled by the TFModel (garbage collection deletes it with it). */
export function desiredAdminTokenSecret(tfmodel: TFModel, credentials: AdminCredentials): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: ownedMetadata(tfmodel, credentials.secretName, 'admin-token'),
    type: 'Opaque',
    // Never changes (a new key gets a new Secret): the kubelet need not watch it.
    immutable: true,
    data: { [ADMIN_TOKEN_KEY]: Buffer.from(credentials.token, 'utf8').toString('base64') },
  };
}

/** The serving pod's side: the Secret volume, its read-only mount and the server flag. */
export function adminTokenPodSettings(secretName: string): { volume: V1Volume; mount: V1VolumeMount; serverArg: string } {
  return {
    // 0440 with the pod's fsGroup: readable by the server's group, nobody else.
    volume: { name: 'admin-token', secret: { secretName, items: [{ key: ADMIN_TOKEN_KEY, path: ADMIN_TOKEN_KEY }], defaultMode: 0o440 } },
    mount: { name: 'admin-token', mountPath: ADMIN_TOKEN_DIR, readOnly: true },
    serverArg: `--admin_token_file=${ADMIN_TOKEN_FILE}`,
  };
}
