/** Builders for operator unit tests: TFModels, pods and pod reports with sensible defaults. */
import type { V1Pod } from '@kubernetes/client-node';
import { API_VERSION, KIND, type TFModel, type TFModelSpec } from './api/tfmodel.js';
import type { PodReport, ReportedVersion } from './promotion/pod-report.js';

export function tfmodel(spec: Partial<TFModelSpec> = {}, meta: Partial<TFModel['metadata']> = {}): TFModel {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: 'iris', namespace: 'ml', uid: 'uid-iris', generation: 1, ...meta },
    spec: { basePath: '/models/iris', ...spec },
  };
}

export function servingReport(pod: string, versions: Record<number, ReportedVersion['state'] | [ReportedVersion['state'], string]>, labels: Record<string, number> = {}): PodReport {
  return {
    pod,
    kind: 'serving',
    // [state, text]: the load error, or for START why the load waits.
    versions: Object.entries(versions).map(([v, s]) => (Array.isArray(s)
      ? { version: Number(v), state: s[0], ...(s[0] === 'START' ? { waiting: s[1] } : { error: s[1] }) }
      : { version: Number(v), state: s })),
    labels: new Map(Object.entries(labels)),
  };
}

export function pod(name: string, options: { ready?: boolean; uid?: string; owner?: string; namespace?: string; ip?: string } = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: options.namespace ?? 'ml',
      uid: options.uid ?? `uid-${name}`,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: options.owner ?? 'iris-server-abc12', uid: 'rs', controller: true }],
    },
    status: {
      podIP: options.ip ?? '10.0.0.1',
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}
