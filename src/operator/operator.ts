/**
 * Wires the operator together: informers feed a work queue keyed by TFModel, workers run the
 * reconciler while this replica leads, and a small HTTP server answers /metrics, /healthz and
 * /readyz. main.ts turns flags and signals into calls of startOperator.
 */
import { CoordinationV1Api, CoreV1Api, type KubeConfig, type KubernetesObject, type V1ConfigMap, type V1Deployment, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { GROUP, KIND, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, FIELD_MANAGER, PLURAL, SERVER_APP_NAME, VERSION, type TFModel } from './api/tfmodel.js';
import { cachedClusterReader } from './cluster-cache.js';
import { systemClock } from './controller/clock.js';
import { errorMessage } from './controller/errors.js';
import { type HealthCheck, type HealthServer, startHealthServer } from './controller/health-server.js';
import { objectKey } from './controller/keys.js';
import { kubeInformerFactory } from './controller/kube-informer.js';
import { configMaps, customResources, deployments, pods, services, trimmed, withoutBookkeeping } from './controller/kube-resources.js';
import { LeaderElector, type StoppedLeadingReason } from './controller/leader-election.js';
import { kubeLeaseStore } from './controller/lease-store.js';
import { OperatorMetrics } from './controller/operator-metrics.js';
import { informersSynced, leaderOrStandby, loopAlive } from './controller/readiness.js';
import { type Workers, runWorkers } from './controller/run-workers.js';
import { SupervisedInformer } from './controller/supervised-informer.js';
import { WorkQueue } from './controller/work-queue.js';
import type { OperatorFlags } from './flags.js';
import { kubeAdminKey } from './kube/admin-key.js';
import { KubeClusterWriter } from './kube/cluster-writer.js';
import { TFModelReconciler } from './reconciler.js';
import { PodAddressMapFile, podIpResolver } from './serving-client/pod-address.js';
import { TfmodelServerClient } from './serving-client/serving-client.js';
import type { Logger } from '../server/logging.js';

export interface OperatorOptions {
  readonly flags: OperatorFlags;
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** The Lease holder's name: the pod's name in a cluster (POD_NAME), so `kubectl get lease` names a pod. */
  readonly identity?: string;
}

export interface RunningOperator {
  readonly health: HealthServer;
  /**
   * Resolves when the operator has stopped by itself: 'lost' when it lost the leader Lease (main
   * exits non-zero so the kubelet restarts it, client-go's convention).
   */
  readonly stopped: Promise<StoppedLeadingReason>;
  /** Graceful stop: finishes reconciles in flight, hands the Lease back, closes the HTTP server. */
  stop(): Promise<void>;
}

/** Standby readiness: a Lease read older than this means we cannot reach the apiserver. */
const STANDBY_STALE_MS = 60_000;

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { flags, kubeConfig: kc, logger } = options;
  const metrics = new OperatorMetrics();
  const namespace = flags.namespace;
  const managed = `${LABEL_MANAGED_BY}=${FIELD_MANAGER}`;
  const informer = <T extends KubernetesObject>(resource: string, source: Parameters<typeof kubeInformerFactory<T>>[1]) =>
    new SupervisedInformer<T>({ resource, factory: kubeInformerFactory(kc, source), logger, observer: metrics });
  // Cached objects keep only what the reconciler reads (see cluster-cache.ts): metadata, the
  // Deployment's replicas and status, pods' status.
  const informers = {
    tfmodels: informer<TFModel>('tfmodels', trimmed(customResources<TFModel>(kc, { group: GROUP, version: VERSION, plural: PLURAL, namespace }), withoutBookkeeping)),
    configMaps: informer<V1ConfigMap>('configmaps', trimmed(configMaps(kc, { namespace, labelSelector: managed }), (cm) => {
      delete cm.data;
      delete cm.binaryData;
      return withoutBookkeeping(cm);
    })),
    deployments: informer<V1Deployment>('deployments', trimmed(deployments(kc, { namespace, labelSelector: managed }), (deployment) => {
      if (deployment.spec) deployment.spec = { ...deployment.spec, template: {} };
      return withoutBookkeeping(deployment);
    })),
    services: informer<V1Service>('services', trimmed(services(kc, { namespace, labelSelector: managed }), (service) => {
      delete service.spec;
      return withoutBookkeeping(service);
    })),
    pods: informer<V1Pod>('pods', trimmed(pods(kc, { namespace, labelSelector: `${LABEL_NAME}=${SERVER_APP_NAME}` }), (pod) => {
      delete pod.spec;
      return withoutBookkeeping(pod);
    })),
  };
  const allInformers = Object.values(informers);

  const labelMoves = metrics.counter({
    name: 'tfmodel_operator_label_moves_total',
    help: 'Version labels (stable, canary, ...) moved to a new version once every serving pod had it AVAILABLE.',
    labelNames: ['label'],
  });
  metrics.gauge({
    name: 'tfmodel_operator_tfmodels',
    help: 'TFModels in the cache, by their Ready condition.',
    labelNames: ['ready'],
    collect() {
      const counts = { True: 0, False: 0, Unknown: 0 };
      for (const model of informers.tfmodels.list()) {
        const ready = model.status?.conditions?.find((c) => c.type === 'Ready')?.status;
        counts[ready === 'True' || ready === 'False' ? ready : 'Unknown']++;
      }
      for (const [ready, count] of Object.entries(counts)) this.set({ ready }, count);
    },
  });

  const reconciler = new TFModelReconciler({
    reader: cachedClusterReader(informers),
    writer: new KubeClusterWriter(kc),
    serving: new TfmodelServerClient(),
    addresses: flags.podAddressMap ? new PodAddressMapFile(flags.podAddressMap) : podIpResolver,
    render: { serverImage: flags.serverImage, serverGpuImage: flags.serverGpuImage },
    log: logger,
    // The key lives in the operator's own namespace, next to its Lease.
    ...(flags.adminToken ? { adminKey: kubeAdminKey(kc.makeApiClient(CoreV1Api), flags.leaderElectionNamespace, flags.adminKeySecret) } : {}),
    notFoundGraceMs: flags.versionNotFoundGraceSeconds * 1000,
    onLabelMoved: (_tfmodel, label) => labelMoves.inc({ label }),
  });

  const queue = new WorkQueue({ observer: metrics });
  metrics.observeQueue(queue);
  wireEvents(informers, queue, reconciler);

  const elector = flags.leaderElect
    ? new LeaderElector({
        store: kubeLeaseStore(kc.makeApiClient(CoordinationV1Api), flags.leaderElectionNamespace, flags.leaderElectionId),
        ...(options.identity ? { identity: options.identity } : {}),
        leaseDurationMs: flags.leaseDurationMs,
        renewDeadlineMs: flags.renewDeadlineMs,
        retryPeriodMs: flags.retryPeriodMs,
        logger,
        observer: metrics,
        onStartedLeading: (signal) => void lead(signal),
        onStoppedLeading: (reason) => stoppedLeading(reason),
      })
    : undefined;

  let workers: Workers | undefined;
  let resolveStopped!: (reason: StoppedLeadingReason) => void;
  const stopped = new Promise<StoppedLeadingReason>((resolve) => (resolveStopped = resolve));

  const lead = async (signal?: AbortSignal): Promise<void> => {
    logger.info('leading', { identity: elector?.identity ?? 'leader election disabled' });
    await Promise.all(allInformers.map((i) => i.start()));
    if (signal?.aborted) return;
    for (const model of informers.tfmodels.list()) queue.add(objectKey(model));
    workers = runWorkers({ queue, reconcile: (key) => reconciler.reconcile(key), workers: flags.workers, logger, observer: metrics });
  };
  const stoppedLeading = (reason: StoppedLeadingReason): void => {
    logger.warn('stopped_leading', { reason });
    resolveStopped(reason);
  };

  const liveness: Record<string, HealthCheck> = {};
  if (elector) liveness['leader-election'] = loopAlive('leader election', elector);
  liveness['workers'] = () => (workers && !workers.alive() ? 'workers stopped' : undefined);
  const readiness: Record<string, HealthCheck> = { informers: informersSynced(allInformers) };
  if (elector) readiness['leader-election'] = leaderOrStandby(elector, systemClock, STANDBY_STALE_MS);
  const health = await startHealthServer({ host: flags.httpHost, port: flags.httpPort, metrics, liveness, readiness, logger });
  logger.info('operator_started', { http: `${health.host}:${health.port}`, namespace: namespace ?? '(all)', leaderElect: flags.leaderElect });

  // Standbys sync their caches too, so a failover starts warm.
  for (const i of allInformers) void i.start();
  if (elector) {
    elector.run().catch((error: unknown) => logger.error('leader_election_failed', { error: errorMessage(error) }));
  } else {
    void lead();
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      logger.info('operator_stopping', {});
      // Workers first, so no reconcile writes after we hand the Lease to the next leader.
      await workers?.stop();
      queue.shutDown();
      await elector?.release();
      await Promise.all(allInformers.map((i) => i.stop()));
      await health.close();
      resolveStopped('released');
      logger.info('operator_stopped', {});
    })());

  return { health, stopped, stop };
}

interface Informers {
  readonly tfmodels: SupervisedInformer<TFModel>;
  readonly configMaps: SupervisedInformer<V1ConfigMap>;
  readonly deployments: SupervisedInformer<V1Deployment>;
  readonly services: SupervisedInformer<V1Service>;
  readonly pods: SupervisedInformer<V1Pod>;
}

/** Every event becomes the key of the TFModel it concerns. */
function wireEvents(informers: Informers, queue: WorkQueue, reconciler: TFModelReconciler): void {
  // Our own status writes change the resourceVersion but not the generation: skip those updates,
  // or every status write would trigger another reconcile (and pod reports) for nothing.
  const generations = new Map<string, number | undefined>();
  const onTFModel = (model: TFModel): void => {
    const key = objectKey(model);
    const generation = model.metadata.generation;
    if (generations.has(key) && generations.get(key) === generation && !model.metadata.deletionTimestamp) return;
    generations.set(key, generation);
    queue.add(key);
  };
  informers.tfmodels.on('add', onTFModel);
  informers.tfmodels.on('update', onTFModel);
  informers.tfmodels.on('delete', (model) => {
    generations.delete(objectKey(model));
    if (model.metadata.uid) reconciler.forgetTFModel(model.metadata.uid);
  });

  const enqueueOwner = (object: KubernetesObject): void => {
    const owner = object.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === KIND && ref.apiVersion.startsWith(`${GROUP}/`));
    if (owner) queue.add(`${object.metadata?.namespace}/${owner.name}`);
  };
  for (const owned of [informers.configMaps, informers.deployments, informers.services] as Array<SupervisedInformer<KubernetesObject>>) {
    for (const event of ['add', 'update', 'delete'] as const) owned.on(event, enqueueOwner);
  }

  // Pods belong to a ReplicaSet; our instance label names the TFModel.
  const enqueuePod = (pod: V1Pod): void => {
    const instance = pod.metadata?.labels?.[LABEL_INSTANCE];
    if (instance) queue.add(`${pod.metadata?.namespace}/${instance}`);
  };
  informers.pods.on('add', enqueuePod);
  informers.pods.on('update', enqueuePod);
  informers.pods.on('delete', (pod) => {
    if (pod.metadata?.uid) reconciler.forgetPod(pod.metadata.uid);
    enqueuePod(pod);
  });
}
