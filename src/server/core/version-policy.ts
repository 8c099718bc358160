/** Which of the versions found on disk a model should serve (TF Serving's ServableVersionPolicy). */
import type { ModelConfig } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';

export type VersionPolicy =
  | { readonly kind: 'latest'; readonly numVersions: number }
  | { readonly kind: 'all' }
  | { readonly kind: 'specific'; readonly versions: readonly bigint[] };

export function versionPolicyOf(config: ModelConfig): VersionPolicy {
  const choice = config.modelVersionPolicy?.policyChoice;
  switch (choice?.case) {
    case 'all':
      return { kind: 'all' };
    case 'specific':
      return { kind: 'specific', versions: [...new Set(choice.value.versions)].sort(compareVersions) };
    case 'latest':
      return { kind: 'latest', numVersions: Math.max(1, choice.value.numVersions) };
    default:
      return { kind: 'latest', numVersions: 1 };
  }
}

/** The aspired versions among those available, newest first. */
export function aspiredVersions(available: readonly bigint[], policy: VersionPolicy): bigint[] {
  const sorted = [...available].sort(compareVersions).reverse();
  switch (policy.kind) {
    case 'all':
      return sorted;
    case 'latest':
      return sorted.slice(0, policy.numVersions);
    case 'specific':
      return sorted.filter((v) => policy.versions.includes(v));
  }
}

export function compareVersions(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function describePolicy(policy: VersionPolicy): string {
  if (policy.kind === 'latest') return `latest ${policy.numVersions}`;
  if (policy.kind === 'all') return 'all';
  return `specific {${policy.versions.join(', ')}}`;
}
