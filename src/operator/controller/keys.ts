/** Work queue keys: "namespace/name", or "name" for cluster-scoped objects (client-go's format). */
import type { KubernetesObject } from '@kubernetes/client-node';

export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

export function objectKey(object: KubernetesObject): string {
  return refKey({ namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' });
}

export function refKey(ref: ObjectRef): string {
  return ref.namespace === '' ? ref.name : `${ref.namespace}/${ref.name}`;
}
