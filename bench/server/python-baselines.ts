/**
 * The Python baselines: Flask + TensorFlow (REST) and grpcio + TensorFlow (gRPC), run with a venv
 * of their own that holds bench/server/requirements.txt (Flask) and reaches TensorFlow, grpcio and
 * tensorflow-serving-api in the project's pinned venv (scripts/python-env.sh) through a .pth file,
 * so nothing large is installed twice. The venv is cached under ~/.cache/tfmodel by the hash of
 * the pins and of the TensorFlow venv's path; a marker file is written only once pip succeeded.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from './launcher.js';
import { BENCH_SOURCE, lastLineOfScript, progress } from './paths.js';
import type { ServerUnderTest } from './targets.js';

const REQUIREMENTS = join(BENCH_SOURCE, 'requirements.txt');

function cacheDir(): string {
  return process.env['TFMODEL_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'tfmodel');
}

function sitePackages(python: string): string {
  return execFileSync(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).trim();
}

/** The Flask venv's directory, created on first use (pip needs PyPI then). */
export function ensureBaselineVenv(): string {
  const tfVenv = lastLineOfScript('python-env.sh');
  const hash = createHash('sha256').update(readFileSync(REQUIREMENTS)).update(tfVenv).digest('hex').slice(0, 12);
  const venv = join(cacheDir(), `bench-server-venv-${hash}`);
  const marker = join(venv, '.tfmodel-install-complete');
  if (existsSync(marker)) return venv;
  progress(`creating ${venv} (Flask, over the TensorFlow venv ${tfVenv})`);
  mkdirSync(cacheDir(), { recursive: true });
  rmSync(venv, { recursive: true, force: true });
  execFileSync(join(tfVenv, 'bin', 'python'), ['-m', 'venv', venv], { stdio: ['ignore', 'inherit', 'inherit'] });
  const python = join(venv, 'bin', 'python');
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', REQUIREMENTS], { stdio: ['ignore', 'inherit', 'inherit'] });
  // Appended to sys.path after the venv's own site-packages: Flask's pins win, TensorFlow comes from the project venv.
  writeFileSync(join(sitePackages(python), 'tfmodel-tensorflow-venv.pth'), `${sitePackages(join(tfVenv, 'bin', 'python'))}\n`);
  writeFileSync(marker, `${hash}\n`);
  return venv;
}

function startPython(venv: string, label: string, script: string, modelDir: string): ManagedProcess {
  return ManagedProcess.launch({
    label,
    command: join(venv, 'bin', 'python'),
    args: ['-u', join(BENCH_SOURCE, 'python', script), modelDir],
    env: { TF_CPP_MIN_LOG_LEVEL: '2' },
  });
}

export async function startFlask(venv: string, modelDir: string): Promise<ServerUnderTest> {
  const label = 'Python TF + Flask';
  const process_ = startPython(venv, label, 'flask_server.py', modelDir);
  return { label, process: process_, restBase: `http://127.0.0.1:${await process_.portOf('rest_listening')}` };
}

export async function startPythonGrpc(venv: string, modelDir: string): Promise<ServerUnderTest> {
  const label = 'Python TF + grpcio';
  const process_ = startPython(venv, label, 'grpc_server.py', modelDir);
  return { label, process: process_, grpcAddress: `127.0.0.1:${await process_.portOf('grpc_listening')}` };
}

const VERSIONS_SCRIPT = [
  'import sys',
  'from importlib.metadata import version',
  "print('Python', sys.version.split()[0] + ', TensorFlow', version('tensorflow-cpu') + ', Flask', version('flask') + ', grpcio', version('grpcio'))",
].join('\n');

/** Python and package versions, for the report. */
export function pythonVersions(venv: string): string {
  return execFileSync(join(venv, 'bin', 'python'), ['-c', VERSIONS_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}
