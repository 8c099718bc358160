/**
 * The production InformerFactory: client-node's ListWatch (what makeInformer builds) over a Watch
 * that also reports every line it receives, asks the apiserver for bookmarks and a server-side
 * timeout, and turns watched objects into the shape the list returns.
 *
 *   const kc = new KubeConfig(); kc.loadFromDefault();
 *   const tfmodels = new SupervisedInformer<TFModel>({
 *     resource: 'tfmodels',
 *     factory: kubeInformerFactory(kc, customResources<TFModel>(kc, { group: GROUP, version: VERSION, plural: PLURAL, namespace })),
 *     logger, observer: metrics,
 *   });
 *   const pods = new SupervisedInformer<V1Pod>({ resource: 'pods', factory: kubeInformerFactory(kc, pods(kc, { namespace, labelSelector })) });
 *
 * (resource helpers in kube-resources.ts).
 */
import { type KubeConfig, type KubernetesListObject, type KubernetesObject, ListWatch, Watch } from '@kubernetes/client-node';
import type { InformerFactory } from './supervised-informer.js';

/** A resource to list and watch. */
export interface KubeResource<T extends KubernetesObject> {
  /** The watch path, e.g. /apis/serving.tfmodel.dev/v1alpha1/namespaces/ns/tfmodels. */
  readonly path: string;
  /** Lists the same objects the path watches (same namespace, same label selector). */
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  /** Watch events carry raw JSON; this gives them the shape `list` returns (e.g. Date fields). */
  readonly fromWatch?: (raw: object) => T;
}

export interface KubeInformerOptions {
  /**
   * The watch's server-side timeout, drawn per watch request. The apiserver then ends quiet
   * watches itself and ListWatch reconnects from the last resourceVersion (no re-list); keep it
   * below the supervisor's watchdogMs so a healthy quiet watch never trips the watchdog. Default:
   * 2 to 4 minutes (spread so informers do not reconnect in step).
   */
  readonly watchTimeoutSeconds?: () => number;
}

export function kubeInformerFactory<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  resource: KubeResource<T>,
  options: KubeInformerOptions = {},
): InformerFactory<T> {
  const timeoutSeconds = options.watchTimeoutSeconds ?? (() => 120 + Math.floor(Math.random() * 120));
  return (handlers) => {
    const watch = new ObservedWatch(kubeConfig, handlers.activity, timeoutSeconds, resource.fromWatch);
    const informer = new ListWatch<T>(resource.path, watch, resource.list, false, resource.labelSelector);
    informer.on('add', handlers.add);
    informer.on('update', handlers.update);
    informer.on('delete', handlers.delete);
    informer.on('error', handlers.error);
    informer.on('connect', handlers.activity);
    return informer;
  };
}

const OBJECT_EVENTS = new Set(['ADDED', 'MODIFIED', 'DELETED']);

class ObservedWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly activity: () => void,
    private readonly timeoutSeconds: () => number,
    private readonly fromWatch: ((raw: object) => unknown) | undefined,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObject: unknown, watchObject?: unknown) => void,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    const params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: this.timeoutSeconds() };
    const observed = (phase: string, apiObject: unknown, watchObject?: unknown): void => {
      this.activity();
      const shaped = this.fromWatch && OBJECT_EVENTS.has(phase) && typeof apiObject === 'object' && apiObject !== null;
      callback(phase, shaped ? this.fromWatch!(apiObject) : apiObject, watchObject);
    };
    try {
      return await super.watch(path, params, observed, done);
    } catch (error) {
      // Watch.watch throws, instead of calling done, when it cannot build the request (e.g. an
      // exec credential plugin fails). ListWatch re-watches from its done handler without a
      // catch, so that would be an unhandled rejection that kills the process: report it as the
      // watch ending with an error instead, which stops the informer and lets the supervisor retry.
      done(error);
      return new AbortController();
    }
  }
}
