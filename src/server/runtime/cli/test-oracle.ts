/**
 * Test support: the pinned Python venv (numpy, TensorFlow) and one-call access to oracle.py, the
 * script that answers with Python's, numpy's and saved_model_cli's own results. Locally a missing
 * venv skips the suites that need it; under CI=true it fails them (requirePrerequisite).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requirePrerequisite } from '../../../../test/support/prerequisites.js';

/** The repository root, from dist/src/server/runtime/cli/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
export const ORACLE_SCRIPT = join(REPO_ROOT, 'src', 'server', 'runtime', 'cli', 'oracle.py');
export const CLI_MAIN = join(REPO_ROOT, 'dist', 'src', 'server', 'runtime', 'cli', 'main.js');

let cached: { python?: string; skipReason?: string } | undefined;

/** The venv's python (created once by scripts/python-env.sh), or why it is unavailable. */
export function venvPython(): { python?: string; skipReason?: string } {
  if (cached) return cached;
  const result = requirePrerequisite(
    'The Python venv with numpy and TensorFlow',
    'it needs python3 with venv/pip and PyPI access (scripts/python-env.sh)',
    () => {
      const out = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'python-env.sh')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const python = join(out.trim().split('\n').pop()!, 'bin', 'python');
      if (!existsSync(python)) throw new Error(`${python} does not exist`);
      return python;
    },
  );
  cached = { python: result.value, skipReason: result.skipReason };
  return cached;
}

/** Sends one request to oracle.py and returns its JSON answer. Hash randomisation is off. */
export function callOracle<T>(python: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      python,
      [ORACLE_SCRIPT],
      {
        encoding: 'utf8',
        maxBuffer: 512 * 1024 * 1024,
        env: { ...process.env, PYTHONHASHSEED: '0', TF_CPP_MIN_LOG_LEVEL: '3', CUDA_VISIBLE_DEVICES: '' },
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`oracle.py failed: ${error.message}\n${stderr.slice(-4000)}`));
        else resolve(JSON.parse(stdout) as T);
      },
    );
    child.stdin!.end(JSON.stringify(request));
  });
}

export interface SpawnResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built saved-model-cli binary. */
export function spawnCli(args: readonly string[], timeoutMs = 120_000): Promise<SpawnResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_MAIN, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}
