/**
 * Fake Nodes for kwok. A Node carrying the kwok annotation is managed by our kwok (it keeps the
 * node Ready and runs pods bound to it in name only); the kwok taint keeps every pod that does not
 * explicitly tolerate it off fake nodes. Capacity is whatever the spec says, so GPU scheduling can
 * be tested with `nvidia.com/gpu` as an extended resource and no GPU in sight.
 */
import type { V1Node, V1Taint, V1Toleration } from '@kubernetes/client-node';
import { KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE } from './components.js';
import type { KubectlOptions, KubectlResult } from './kubectl.js';
import { poll } from './processes.js';

export interface FakeNodeSpec {
  readonly name: string;
  /** Default "16". */
  readonly cpu?: string;
  /** Default "64Gi". */
  readonly memory?: string;
  /** Default "110". */
  readonly pods?: string;
  /** Extended resources in capacity and allocatable, e.g. `{ 'nvidia.com/gpu': '8' }`. */
  readonly extendedResources?: Readonly<Record<string, string>>;
  /** Added to the standard ones (kubernetes.io/hostname, os, arch, type=kwok). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Added to the kwok taint, e.g. `{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }`. */
  readonly taints?: readonly V1Taint[];
}

/** The taint every fake node carries. */
export const KWOK_TAINT: V1Taint = { key: KWOK_NODE_ANNOTATION, value: KWOK_NODE_ANNOTATION_VALUE, effect: 'NoSchedule' };

/** Pods meant to run on fake nodes need this toleration. */
export const KWOK_TOLERATION: V1Toleration = { key: KWOK_NODE_ANNOTATION, operator: 'Equal', value: KWOK_NODE_ANNOTATION_VALUE, effect: 'NoSchedule' };

/** A node as the NVIDIA GPU operator labels and taints it, with `count` GPUs of `product`. */
export function gpuNodeSpec(name: string, options: { count?: number; product?: string; taint?: boolean } = {}): FakeNodeSpec {
  return {
    name,
    extendedResources: { 'nvidia.com/gpu': String(options.count ?? 8) },
    labels: {
      'nvidia.com/gpu.present': 'true',
      'nvidia.com/gpu.product': options.product ?? 'NVIDIA-H100-80GB-HBM3',
      'nvidia.com/gpu.count': String(options.count ?? 8),
    },
    taints: options.taint === false ? [] : [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }],
  };
}

/** The Node object (status included: the apiserver keeps a Node's status on create). */
export function fakeNode(spec: FakeNodeSpec): V1Node {
  const resources = { cpu: spec.cpu ?? '16', memory: spec.memory ?? '64Gi', pods: spec.pods ?? '110', ...spec.extendedResources };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      annotations: { [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE, 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        ...spec.labels,
      },
    },
    spec: { taints: [KWOK_TAINT, ...(spec.taints ?? [])] },
    status: { capacity: { ...resources }, allocatable: { ...resources } },
  };
}

/** What createFakeNodes needs of a control plane. */
export interface KubectlRunner {
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<KubectlResult>;
}

/** Creates the nodes with kubectl and waits until kwok has marked each one Ready. */
export async function createFakeNodes(plane: KubectlRunner, specs: readonly FakeNodeSpec[], options: { timeoutMs?: number } = {}): Promise<void> {
  const list = { apiVersion: 'v1', kind: 'List', items: specs.map(fakeNode) };
  await plane.kubectl(['create', '-f', '-'], { input: JSON.stringify(list), check: true });
  const names = specs.map((spec) => spec.name);
  // One kubectl per poll for all nodes: each run costs a process start on a 2-core machine.
  await poll(
    async () => {
      const { stdout } = await plane.kubectl(['get', 'nodes', ...names, '-o', 'json'], { check: true });
      const parsed = JSON.parse(stdout) as V1Node | { kind: 'List'; items: V1Node[] };
      const nodes = 'items' in parsed ? parsed.items : [parsed]; // one name gets the object itself
      const ready = nodes.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      if (ready.length === names.length) return true;
      throw new Error(`not Ready yet: ${names.filter((n) => !ready.some((node) => node.metadata?.name === n)).join(', ')}`);
    },
    { what: 'fake nodes Ready (kwok manages them)', timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 500 },
  );
}
