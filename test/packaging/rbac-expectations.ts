/**
 * The operator's permissions, exactly: the chart must grant these and nothing more. Adding a
 * permission to the chart fails the tests until it is added here too, with its reason in the
 * chart's rbac.yaml comments.
 */
import type { KubeObject } from './helm.js';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

/** One permission: "group/resource[#name]:verb" (core group as ""). */
export type Permission = string;

export function expandRules(rules: readonly PolicyRule[]): Permission[] {
  const out = new Set<Permission>();
  for (const rule of rules) {
    if (rule.nonResourceURLs?.length) throw new Error(`unexpected nonResourceURLs rule: ${JSON.stringify(rule)}`);
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        for (const verb of rule.verbs) {
          const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
          for (const name of names) out.add(`${group}/${resource}${name === undefined ? '' : `#${name}`}:${verb}`);
        }
      }
    }
  }
  return [...out].sort();
}

function permissions(spec: Record<string, readonly string[]>): Permission[] {
  const out: Permission[] = [];
  for (const [groupResource, verbs] of Object.entries(spec)) for (const verb of verbs) out.push(`${groupResource}:${verb}`);
  return out.sort();
}

const EVENTS = { '/events': ['create', 'patch'], 'events.k8s.io/events': ['create', 'patch'] };

/**
 * Over TFModels and what the operator renders from them: cluster-wide or in the watched namespace.
 * With adminToken.enabled (the default) also Secrets, create only (each TFModel's token Secret).
 */
export function watchScopePermissions(adminToken = true): Permission[] {
  return adminToken ? [...WATCH_SCOPE_BASE, '/secrets:create'].sort() : WATCH_SCOPE_BASE;
}

const WATCH_SCOPE_BASE = permissions({
  'serving.tfmodel.dev/tfmodels': ['get', 'list', 'watch'],
  'serving.tfmodel.dev/tfmodels/status': ['get', 'update', 'patch'],
  'serving.tfmodel.dev/tfmodels/finalizers': ['update'],
  '/configmaps': ['get', 'list', 'watch', 'create', 'patch'],
  '/services': ['get', 'list', 'watch', 'create', 'patch'],
  'apps/deployments': ['get', 'list', 'watch', 'create', 'patch'],
  '/pods': ['get', 'list', 'watch'],
  'monitoring.coreos.com/servicemonitors': ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  'autoscaling/horizontalpodautoscalers': ['get', 'create', 'patch', 'delete'],
  ...EVENTS,
});

/** The default values' watch-scope permissions (adminToken enabled). */
export const WATCH_SCOPE_PERMISSIONS = watchScopePermissions();

/** In the release namespace, for the admin key Secret `secretName` (adminToken.enabled). */
export function adminKeyPermissions(secretName: string): Permission[] {
  return permissions({ '/secrets': ['create'], [`/secrets#${secretName}`]: ['get'] });
}

/** In the release namespace, for leader election with Lease `leaseName`. */
export function leaderElectionPermissions(leaseName: string): Permission[] {
  return permissions({
    'coordination.k8s.io/leases': ['create'],
    [`coordination.k8s.io/leases#${leaseName}`]: ['get', 'update'],
    ...EVENTS,
  });
}

export function rulesOf(object: KubeObject): PolicyRule[] {
  return (object['rules'] as PolicyRule[] | undefined) ?? [];
}
