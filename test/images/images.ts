/**
 * The project's container images for tests: scripts/images/build.sh builds what is missing or out
 * of date (a no-op when current) and prints the directory of the saved tarballs; podman then runs
 * them from the script's own image store (its CONTAINERS_CONF / CONTAINERS_STORAGE_CONF). Locally a
 * failure skips the suite with the reason; under CI=true it fails (requirePrerequisite).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../support/corpus.js';
import { requirePrerequisite } from '../support/prerequisites.js';

export const IMAGES_BUILD_SCRIPT = join(REPO_ROOT, 'scripts', 'images', 'build.sh');

export const SERVER_IMAGE = 'ghcr.io/tfmodel/tfmodel-server:0.1.0';
export const OPERATOR_IMAGE = 'ghcr.io/tfmodel/tfmodel-operator:0.1.0';
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

export interface BuiltImages {
  /** Directory of `<key>.tar` (docker-archive), `<key>.tag` and sizes.txt. */
  readonly outDir: string;
  /** Environment that points podman at the build's configuration and image store. */
  readonly podmanEnv: NodeJS.ProcessEnv;
  /** docker-archive tarball of each image (keys: server, operator, pause). */
  readonly tarballs: { readonly server: string; readonly operator: string; readonly pause: string };
  /** Image sizes in bytes as podman reports them, by tag. */
  readonly sizes: ReadonlyMap<string, number>;
}

/** A cold build (debootstrap, both images) takes 5-10 minutes on 2 cores; a current one ~1 s. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

let cached: { images?: BuiltImages; skipReason?: string } | undefined;

/** Builds (once per machine) or finds the images. Synchronous: call it from a hook with a long timeout. */
export function builtImages(): { images?: BuiltImages; skipReason?: string } {
  if (!cached) {
    const result = requirePrerequisite(
      'The project images (podman builds of docker/*.Dockerfile)',
      'they need root, podman, buildah, runc, debootstrap, gcc and libc6-dev (apt-get install) and access to the Debian mirror ' +
        'and the npm registry (bash scripts/images/build.sh; see docker/README.md)',
      locate,
    );
    cached = { images: result.value, skipReason: result.skipReason };
  }
  return cached;
}

function locate(): BuiltImages {
  const outDir = buildIfNeeded();
  const dir = dirname(outDir);
  const sizes = new Map<string, number>();
  for (const line of readFileSync(join(outDir, 'sizes.txt'), 'utf8').trim().split('\n')) {
    const [tag, size] = line.split(' ');
    sizes.set(tag!, Number(size));
  }
  return {
    outDir,
    podmanEnv: { CONTAINERS_CONF: join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf') },
    tarballs: { server: join(outDir, 'server.tar'), operator: join(outDir, 'operator.tar'), pause: join(outDir, 'pause.tar') },
    sizes,
  };
}

function buildIfNeeded(): string {
  const check = spawnSync('bash', [IMAGES_BUILD_SCRIPT, '--check'], { encoding: 'utf8' });
  if (check.status === 0) return lastLine(check.stdout);
  if (check.status !== 3) throw new Error(lastLine(check.stderr) || `${IMAGES_BUILD_SCRIPT} --check failed (${check.status ?? check.signal})`);
  const logPath = join(tmpdir(), `tfmodel-images-build-${process.pid}.log`);
  console.warn(`images: building the container images (5-10 minutes cold); progress in ${logPath}`);
  const log = openSync(logPath, 'w');
  let build;
  try {
    build = spawnSync('bash', [IMAGES_BUILD_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', log], timeout: BUILD_TIMEOUT_MS });
  } finally {
    closeSync(log);
  }
  if (build.status !== 0) {
    throw new Error(`${IMAGES_BUILD_SCRIPT} failed (${build.status ?? build.signal}) (log: ${logPath}): ${readFileSync(logPath, 'utf8').trim().split('\n').slice(-20).join('\n')}`);
  }
  rmSync(logPath, { force: true });
  return lastLine(build.stdout);
}

/** Runs podman against the build's image store; resolves with its output whatever the exit code. */
export function podman(images: BuiltImages, args: readonly string[], options: { readonly input?: string; readonly timeoutMs?: number } = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('podman', args, {
    encoding: 'utf8',
    env: { ...process.env, ...images.podmanEnv },
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Like podman(), but throws with stderr unless it exits 0; returns stdout. */
export function podmanOk(images: BuiltImages, args: readonly string[], options: { readonly input?: string; readonly timeoutMs?: number } = {}): string {
  const result = podman(images, args, options);
  if (result.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  return result.stdout;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
