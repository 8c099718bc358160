/**
 * Every write the operator makes to the apiserver: server-side apply of owned objects under our
 * field manager, the TFModel status (through the /status subresource), deletion of a
 * ServiceMonitor we created, and events.
 */
import {
  type CoreV1Api, type CoreV1Event, type CustomObjectsApi, type KubeConfig, type KubernetesObject, KubernetesObjectApi, PatchStrategy,
  CoreV1Api as CoreV1ApiClass, CustomObjectsApi as CustomObjectsApiClass,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { API_VERSION, FIELD_MANAGER, GROUP, KIND, PLURAL, VERSION, type TFModel, type TFModelStatus } from '../api/tfmodel.js';

export type EventType = 'Normal' | 'Warning';

export interface ClusterWriter {
  /** Server-side apply (create or update), taking ownership of the fields we set. */
  apply<T extends KubernetesObject>(object: T): Promise<T>;
  /** Replaces the TFModel's status through the /status subresource. */
  writeStatus(tfmodel: TFModel, status: TFModelStatus): Promise<void>;
  /**
   * Creates an object (a POST, no apply: for Secrets, whose create needs no permission to read or
   * change anyone else's). 'exists' when an object of that name is there already; it is not read.
   */
  create(object: KubernetesObject): Promise<'created' | 'exists'>;
  deleteObject(object: KubernetesObject): Promise<void>;
  /** Reads an object (for types no informer watches); undefined when absent. */
  read<T extends KubernetesObject>(header: KubernetesObject): Promise<T | undefined>;
  event(tfmodel: TFModel, type: EventType, reason: string, message: string): Promise<void>;
}

export class KubeClusterWriter implements ClusterWriter {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kubeConfig: KubeConfig, private readonly component = FIELD_MANAGER) {
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApiClass);
    this.core = kubeConfig.makeApiClient(CoreV1ApiClass);
  }

  apply<T extends KubernetesObject>(object: T): Promise<T> {
    return this.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  async writeStatus(tfmodel: TFModel, status: TFModelStatus): Promise<void> {
    // A JSON patch "add" replaces the whole status: a merge patch would keep map keys we dropped
    // (a removed label in servedLabels) unless each were sent as null.
    await this.custom.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: tfmodel.metadata.namespace!,
      name: tfmodel.metadata.name!,
      body: [{ op: 'add', path: '/status', value: status }],
    });
  }

  async create(object: KubernetesObject): Promise<'created' | 'exists'> {
    try {
      await this.objects.create(object, undefined, undefined, FIELD_MANAGER);
      return 'created';
    } catch (error) {
      if (httpStatusOf(error) === 409) return 'exists';
      throw error;
    }
  }

  async deleteObject(object: KubernetesObject): Promise<void> {
    try {
      await this.objects.delete(object, undefined, undefined, undefined, undefined, 'Background');
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
    }
  }

  async read<T extends KubernetesObject>(header: KubernetesObject): Promise<T | undefined> {
    try {
      return (await this.objects.read(header as never)) as T;
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async event(tfmodel: TFModel, type: EventType, reason: string, message: string): Promise<void> {
    const now = new Date();
    const body: CoreV1Event = {
      metadata: { name: `${tfmodel.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: tfmodel.metadata.namespace! },
      involvedObject: {
        apiVersion: API_VERSION,
        kind: KIND,
        name: tfmodel.metadata.name!,
        namespace: tfmodel.metadata.namespace!,
        uid: tfmodel.metadata.uid!,
        ...(tfmodel.metadata.resourceVersion ? { resourceVersion: tfmodel.metadata.resourceVersion } : {}),
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await this.core.createNamespacedEvent({ namespace: tfmodel.metadata.namespace!, body });
  }
}

/** The HTTP status of a client-node error (1.x throws ApiException with `code`). */
export function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A short description of a client-node error: status and the apiserver's message. */
export function describeKubeError(error: unknown): string {
  const status = httpStatusOf(error);
  const body = (error as { body?: unknown } | null)?.body;
  let message: string | undefined;
  if (typeof body === 'string') {
    try {
      message = (JSON.parse(body) as { message?: string }).message;
    } catch {
      message = body.slice(0, 300);
    }
  } else if (body && typeof body === 'object') {
    message = (body as { message?: string }).message;
  }
  message ??= (error as Error)?.message ?? String(error);
  return status ? `HTTP ${status}: ${message}` : message;
}
