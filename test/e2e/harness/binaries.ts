/**
 * The control plane's binaries: scripts/control-plane/build.sh builds what is missing into the
 * per-machine cache (a no-op once built) and prints the directory (etcd and the kubelet included);
 * Prometheus is a Debian package found on PATH. Locally a failure skips the e2e suites with the reason; under CI=true it
 * fails them (requirePrerequisite).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { REPO_ROOT } from '../../support/corpus.js';
import { requirePrerequisite } from '../../support/prerequisites.js';
import { tailOfFile } from './processes.js';

export const BUILD_SCRIPT = join(REPO_ROOT, 'scripts', 'control-plane', 'build.sh');

export interface ControlPlaneBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubectl: string;
  /** The real node's kubelet (same Kubernetes version as the control plane). */
  readonly kubelet: string;
  readonly kwok: string;
  readonly helm: string;
  readonly prometheus: string;
  readonly promtool: string;
}

/** A cold build takes 10-20 minutes on 2 cores; a warm run a few milliseconds. */
const BUILD_TIMEOUT_MS = 45 * 60_000;

let cached: { binaries?: ControlPlaneBinaries; skipReason?: string } | undefined;

/**
 * Builds (once per machine) or finds the binaries. Synchronous, so call it from a hook with a
 * generous timeout (a cold build blocks for its whole duration); the result is memoised.
 */
export function controlPlaneBinaries(): { binaries?: ControlPlaneBinaries; skipReason?: string } {
  if (!cached) {
    const result = requirePrerequisite(
      'The e2e control plane (etcd, kube-apiserver & co., kubelet, kwok, helm, prometheus)',
      'it needs Go >= 1.26 with access to the Go module proxy and the Debian package prometheus ' +
        '(bash scripts/control-plane/build.sh; see test/e2e/README.md)',
      locateBinaries,
    );
    cached = { binaries: result.value, skipReason: result.skipReason };
  }
  return cached;
}

function locateBinaries(): ControlPlaneBinaries {
  const bin = buildIfNeeded();
  return {
    etcd: executable(join(bin, 'etcd')),
    kubeApiserver: executable(join(bin, 'kube-apiserver')),
    kubeControllerManager: executable(join(bin, 'kube-controller-manager')),
    kubeScheduler: executable(join(bin, 'kube-scheduler')),
    kubectl: executable(join(bin, 'kubectl')),
    kubelet: executable(join(bin, 'kubelet')),
    kwok: executable(join(bin, 'kwok')),
    helm: executable(join(bin, 'helm')),
    prometheus: onPath('prometheus'),
    promtool: onPath('promtool'),
  };
}

/** Runs build.sh (a quick `--check` first) and returns the directory of the built binaries. */
function buildIfNeeded(): string {
  const check = spawnSync('bash', [BUILD_SCRIPT, '--check'], { encoding: 'utf8' });
  if (check.status === 0) return lastLine(check.stdout);
  if (check.status !== 3) throw new Error(lastLine(check.stderr) || `${BUILD_SCRIPT} --check failed (${check.status ?? check.signal})`);

  // Its output goes to a file, not to a pipe we would only read at the end, so a long build can
  // be followed (tail -f) and a failure reported with its last lines.
  const logPath = join(tmpdir(), `tfmodel-control-plane-build-${process.pid}.log`);
  console.warn(`e2e: building the control-plane binaries (10-20 minutes cold); progress in ${logPath}`);
  const log = openSync(logPath, 'w');
  let build;
  try {
    build = spawnSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', log], timeout: BUILD_TIMEOUT_MS });
  } finally {
    closeSync(log);
  }
  if (build.status !== 0) {
    throw new Error(`${BUILD_SCRIPT} failed (${build.status ?? build.signal}): ${lastLine(tailOfFile(logPath, 1))} (log: ${logPath})\n${tailOfFile(logPath, 30)}`);
  }
  rmSync(logPath, { force: true });
  return lastLine(build.stdout);
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

function executable(path: string): string {
  accessSync(path, constants.X_OK);
  return path;
}

function onPath(name: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    try {
      return executable(join(dir, name));
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${name} is not on PATH`);
}
