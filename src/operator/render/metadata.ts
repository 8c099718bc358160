/** Metadata shared by every object the operator owns: labels, the owner reference, apply hashes. */
import { createHash } from 'node:crypto';
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import {
  ANNOTATION_APPLIED_HASH, API_VERSION, FIELD_MANAGER, KIND, LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, SERVER_APP_NAME,
  type TFModel,
} from '../api/tfmodel.js';

/** Makes the TFModel the controlling owner, so garbage collection deletes what we created with it. */
export function ownerReference(tfmodel: TFModel): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: tfmodel.metadata.name!,
    uid: tfmodel.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function ownedLabels(name: string, component: string): Record<string, string> {
  return { [LABEL_NAME]: SERVER_APP_NAME, [LABEL_INSTANCE]: name, [LABEL_MANAGED_BY]: FIELD_MANAGER, [LABEL_COMPONENT]: component };
}

export function ownedMetadata(tfmodel: TFModel, name: string, component: string, annotations: Record<string, string> = {}): V1ObjectMeta {
  return {
    name,
    namespace: tfmodel.metadata.namespace!,
    labels: ownedLabels(tfmodel.metadata.name!, component),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ownerReferences: [ownerReference(tfmodel)],
  };
}

/** A short stable hash of JSON-able data (keys sorted, so equal content hashes equally). */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Stamps the object with the hash of its own content, for the skip-if-unchanged check on apply. */
export function withAppliedHash<T extends { metadata?: V1ObjectMeta }>(object: T): T {
  const hash = contentHash(object);
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata?.annotations, [ANNOTATION_APPLIED_HASH]: hash } } };
}
