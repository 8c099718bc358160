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

export function parseKey(key: string): ObjectRef {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
