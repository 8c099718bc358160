/**
 * spec.gpu -> what the pod needs for each GPU sharing backend. GPUs are integer extended resources
 * that containers never share, so a fraction is only meaningful through a sharing backend; the
 * server always caps its own memory as well (--per_process_gpu_memory_fraction), the one
 * guarantee that holds on every backend.
 */
import type { V1Toleration } from '@kubernetes/client-node';
import type { ResolvedGpu } from '../api/tfmodel.js';

export interface GpuPodSettings {
  readonly limits: Readonly<Record<string, string>>;
  readonly tolerations: readonly V1Toleration[];
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly schedulerName?: string;
  readonly serverArgs: readonly string[];
}

/** The taint NVIDIA's GPU operator and most clouds put on GPU nodes. */
export const GPU_TOLERATION: V1Toleration = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
const HAMI_MEMORY_PERCENT = 'nvidia.com/gpumem-percentage';
const HAMI_CORES = 'nvidia.com/gpucores';
/** The annotation the KAI scheduler (and Run:ai) reads a fraction from. */
export const KAI_FRACTION_ANNOTATION = 'gpu-fraction';

export function gpuPodSettings(gpu: ResolvedGpu): GpuPodSettings {
  const serverArgs = [`--per_process_gpu_memory_fraction=${gpu.fraction}`];
  const base = { tolerations: [GPU_TOLERATION], podAnnotations: {}, serverArgs };
  switch (gpu.sharing) {
    case 'Exclusive':
      return { ...base, limits: { [gpu.resourceName]: String(gpu.count) } };
    case 'TimeSlicing':
    case 'MPS':
    case 'MIG':
      // One of the replicas (or slices) the device plugin advertises; MPS and MIG enforce the
      // share, time-slicing does not.
      return { ...base, limits: { [gpu.resourceName]: '1' } };
    case 'HAMi': {
      const percent = String(Math.max(1, Math.round(gpu.fractionValue * 100)));
      return { ...base, limits: { [gpu.resourceName]: '1', [HAMI_MEMORY_PERCENT]: percent, [HAMI_CORES]: percent } };
    }
    case 'KAI':
      // KAI places fractional pods itself and requests no extended resource.
      return { ...base, limits: {}, podAnnotations: { [KAI_FRACTION_ANNOTATION]: gpu.fraction }, schedulerName: gpu.schedulerName };
  }
}
