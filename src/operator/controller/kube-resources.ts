/**
 * KubeResource definitions for what the operator watches. Typed lists (CoreV1Api, AppsV1Api)
 * return class instances with Date fields and without apiVersion/kind on the items, while watch
 * events are raw JSON with string dates and with apiVersion/kind: these helpers make both look the
 * same (typed, with apiVersion/kind). Custom resources stay raw JSON both ways.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
// Not re-exported by the package index; the generated (de)serializer every typed API call uses.
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import type { KubeResource } from './kube-informer.js';

export interface Scope {
  /** Omitted: every namespace. */
  readonly namespace?: string;
  readonly labelSelector?: string;
}

export interface CustomResourceScope extends Scope {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** e.g. customResources<TFModel>(kc, { group: 'serving.tfmodel.dev', version: 'v1alpha1', plural: 'tfmodels' }). */
export function customResources<T extends KubernetesObject>(kubeConfig: KubeConfig, scope: CustomResourceScope): KubeResource<T> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const { group, version, plural, namespace, labelSelector } = scope;
  // CustomObjectsApi is untyped (Promise<any>): the apiserver's JSON as is.
  const list = (): Promise<KubernetesListObject<T>> =>
    namespace === undefined
      ? api.listClusterCustomObject({ group, version, plural, labelSelector })
      : api.listNamespacedCustomObject({ group, version, namespace, plural, labelSelector });
  return { path: `/apis/${group}/${version}${namespacePath(namespace)}/${plural}`, list, labelSelector };
}

export function configMaps(kubeConfig: KubeConfig, scope: Scope = {}): KubeResource<V1ConfigMap> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const { namespace, labelSelector } = scope;
  return typedResource({
    path: `/api/v1${namespacePath(namespace)}/configmaps`,
    apiVersion: 'v1',
    kind: 'ConfigMap',
    labelSelector,
    list: () => (namespace === undefined ? api.listConfigMapForAllNamespaces({ labelSelector }) : api.listNamespacedConfigMap({ namespace, labelSelector })),
  });
}

export function deployments(kubeConfig: KubeConfig, scope: Scope = {}): KubeResource<V1Deployment> {
  const api = kubeConfig.makeApiClient(AppsV1Api);
  const { namespace, labelSelector } = scope;
  return typedResource({
    path: `/apis/apps/v1${namespacePath(namespace)}/deployments`,
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    labelSelector,
    list: () => (namespace === undefined ? api.listDeploymentForAllNamespaces({ labelSelector }) : api.listNamespacedDeployment({ namespace, labelSelector })),
  });
}

export function services(kubeConfig: KubeConfig, scope: Scope = {}): KubeResource<V1Service> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const { namespace, labelSelector } = scope;
  return typedResource({
    path: `/api/v1${namespacePath(namespace)}/services`,
    apiVersion: 'v1',
    kind: 'Service',
    labelSelector,
    list: () => (namespace === undefined ? api.listServiceForAllNamespaces({ labelSelector }) : api.listNamespacedService({ namespace, labelSelector })),
  });
}

export function pods(kubeConfig: KubeConfig, scope: Scope = {}): KubeResource<V1Pod> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const { namespace, labelSelector } = scope;
  return typedResource({
    path: `/api/v1${namespacePath(namespace)}/pods`,
    apiVersion: 'v1',
    kind: 'Pod',
    labelSelector,
    list: () => (namespace === undefined ? api.listPodForAllNamespaces({ labelSelector }) : api.listNamespacedPod({ namespace, labelSelector })),
  });
}

interface TypedResourceSpec<T extends KubernetesObject> {
  readonly path: string;
  /** client-node's model name is `V1${kind}` for the core and apps groups used here. */
  readonly apiVersion: string;
  readonly kind: string;
  readonly labelSelector: string | undefined;
  readonly list: () => Promise<KubernetesListObject<T>>;
}

function typedResource<T extends KubernetesObject>(spec: TypedResourceSpec<T>): KubeResource<T> {
  const stamp = (object: T): T => Object.assign(object, { apiVersion: spec.apiVersion, kind: spec.kind });
  const modelName = `V1${spec.kind}`;
  return {
    path: spec.path,
    labelSelector: spec.labelSelector,
    list: async () => {
      const list = await spec.list();
      return { ...list, items: list.items.map(stamp) };
    },
    fromWatch: (raw) => stamp(ObjectSerializer.deserialize(raw, modelName, '') as T),
  };
}

function namespacePath(namespace: string | undefined): string {
  return namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
}

/**
 * The same resource, with `trim` applied to every object before it reaches the cache. Caches hold
 * every managed object for the life of the process: dropping what the operator never reads
 * (managedFields, kubectl's last-applied copy, pod specs, ConfigMap data) keeps 1000 TFModels'
 * worth of objects small.
 */
export function trimmed<T extends KubernetesObject>(resource: KubeResource<T>, trim: (object: T) => T): KubeResource<T> {
  const fromWatch = resource.fromWatch;
  return {
    ...resource,
    list: async () => {
      const list = await resource.list();
      return { ...list, items: list.items.map(trim) };
    },
    fromWatch: (raw) => trim(fromWatch ? fromWatch(raw) : (raw as T)),
  };
}

/** What no reader of a cached object needs: server-side apply bookkeeping and kubectl's copy of the spec. */
export function withoutBookkeeping<T extends KubernetesObject>(object: T): T {
  const metadata = object.metadata;
  if (metadata) {
    delete metadata.managedFields;
    if (metadata.annotations?.[LAST_APPLIED] !== undefined) delete metadata.annotations[LAST_APPLIED];
  }
  return object;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
