/**
 * The helm binary for the packaging tests, and helpers to lint and render the chart with it.
 *
 * helm comes from scripts/control-plane/build.sh (the e2e control plane's builder; it pins the
 * version and builds from the Go module proxy): $HELM if set, else the binary that script left in
 * the per-machine cache, else test/e2e/harness/binaries.ts runs the script (a cold build of the
 * whole control plane takes 10-20 minutes). Locally a missing helm skips the suites with the
 * reason; under CI=true it fails them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { controlPlaneBinaries } from '../e2e/harness/binaries.js';
import { REPO_ROOT } from '../support/corpus.js';
import { requirePrerequisite } from '../support/prerequisites.js';

export const CHART_DIR = join(REPO_ROOT, 'charts', 'tfmodel-operator');
export const RELEASE = 'tfmodel';
export const NAMESPACE = 'tfmodel-system';
/** What scripts/sync-manifests.sh passes too: helm's built-in default depends on how it was built. */
export const KUBE_VERSION = '1.34.0';

/** A Kubernetes object as rendered (only what the tests look at is typed). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Where build.sh caches its binaries (the same expression as in the script). */
export function controlPlaneBinDir(): string {
  const cacheRoot = process.env['TFMODEL_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'tfmodel');
  return join(cacheRoot, 'control-plane', 'bin');
}

function executable(path: string): string {
  accessSync(path, constants.X_OK);
  return path;
}

function locateHelm(): string {
  let helm: string;
  const fromEnv = process.env['HELM'];
  if (fromEnv) {
    helm = executable(fromEnv);
  } else {
    try {
      helm = executable(join(controlPlaneBinDir(), 'helm'));
    } catch {
      const built = controlPlaneBinaries();
      if (!built.binaries) throw new Error(built.skipReason ?? 'scripts/control-plane/build.sh built no helm');
      helm = built.binaries.helm;
    }
  }
  const version = execFileSync(helm, ['version', '--short'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v3.')) throw new Error(`${helm} is ${version}, not Helm 3`);
  return helm;
}

let cached: { value?: string; skipReason?: string } | undefined;

/** The helm binary, or why there is none (locally; under CI=true a missing helm throws). */
export function findHelm(): { helm?: string; skipReason?: string } {
  cached ??= requirePrerequisite(
    'helm (Helm 3)',
    'build it with `bash scripts/control-plane/build.sh` (Go >= 1.26 and the Go module proxy) or set HELM=/path/to/helm',
    locateHelm,
  );
  return { helm: cached.value, skipReason: cached.skipReason } as { helm?: string; skipReason?: string };
}

export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with `values` (written to a temporary values file) after `args`; never throws. */
export function runHelm(helm: string, args: readonly string[], values: object = {}): HelmResult {
  const dir = mkdtempSync(join(tmpdir(), 'tfmodel-helm-'));
  try {
    const valuesFile = join(dir, 'values.json');
    writeFileSync(valuesFile, JSON.stringify(values));
    const result = spawnSync(helm, [...args, '--values', valuesFile], {
      encoding: 'utf8',
      env: { ...process.env, HELM_CACHE_HOME: join(dir, 'cache'), HELM_CONFIG_HOME: join(dir, 'config'), HELM_DATA_HOME: join(dir, 'data') },
    });
    if (result.error) throw result.error;
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm lint --strict` of the chart with these values. */
export function lintChart(helm: string, values: object = {}): HelmResult {
  return runHelm(helm, ['lint', '--strict', '--kube-version', KUBE_VERSION, CHART_DIR], values);
}

/** `helm template` of the chart with these values; throws with helm's message if it fails. */
export function renderChart(helm: string, values: object = {}): KubeObject[] {
  const result = runHelm(helm, ['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION], values);
  if (result.status !== 0) throw new Error(`helm template failed (${result.status}): ${result.stderr}`);
  return parseManifests(result.stdout);
}

/** Every object of a multi-document YAML stream (empty documents dropped). */
export function parseManifests(text: string): KubeObject[] {
  return yaml.loadAll(text).filter((doc): doc is KubeObject => doc !== null && doc !== undefined);
}
