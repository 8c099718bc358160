/**
 * The reconciler's view of the cluster, read from the informers' caches: no apiserver round trip
 * per reconcile. The caches hold only what the operator manages (label-selected), which is why the
 * reconciler double-checks with the apiserver before creating an object the cache does not show.
 */
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { TFModel } from './api/tfmodel.js';
import type { ClusterReader } from './reconciler.js';

/** What the reader needs of an informer (SupervisedInformer provides it). */
export interface InformerCache<T extends KubernetesObject> {
  get(namespace: string, name: string): T | undefined;
  list(): readonly T[];
}

export interface ClusterCaches {
  readonly tfmodels: InformerCache<TFModel>;
  readonly configMaps: InformerCache<V1ConfigMap>;
  readonly deployments: InformerCache<V1Deployment>;
  readonly services: InformerCache<V1Service>;
  readonly pods: InformerCache<V1Pod>;
}

export function cachedClusterReader(caches: ClusterCaches): ClusterReader {
  return {
    tfmodel: (namespace, name) => caches.tfmodels.get(namespace, name),
    configMap: (namespace, name) => caches.configMaps.get(namespace, name),
    deployment: (namespace, name) => caches.deployments.get(namespace, name),
    service: (namespace, name) => caches.services.get(namespace, name),
    pods: (namespace, selector) => {
      const wanted = Object.entries(selector);
      return caches.pods.list().filter((pod) => pod.metadata?.namespace === namespace && wanted.every(([key, value]) => pod.metadata?.labels?.[key] === value));
    },
  };
}
