/** Where things are: the repository, the server binary, the models, the set-up scripts' answers. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file runs as dist/bench/server/paths.js: three levels below the repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SERVER_MAIN = join(REPO_ROOT, 'dist', 'src', 'server', 'main.js');
export const BENCH_DIST = join(REPO_ROOT, 'dist', 'bench', 'server');
export const BENCH_SOURCE = join(REPO_ROOT, 'bench', 'server');
export const RESULTS_DIR = join(REPO_ROOT, 'dist', 'bench-results');

/** Our own half_plus_two twins (test/models/generate.py). */
const TEST_MODELS = join(REPO_ROOT, 'test', 'models');
export const HALF_PLUS_TWO_BASE = join(TEST_MODELS, 'half_plus_two');
export const HALF_PLUS_TWO_VERSION_DIR = join(HALF_PLUS_TWO_BASE, '00000123');
export const HALF_PLUS_THREE_VERSION_DIR = join(TEST_MODELS, 'half_plus_three', '00000123');

/** Runs one of the repository's set-up scripts; they print their answer as the last stdout line. */
export function lastLineOfScript(script: string): string {
  const stdout = execFileSync('bash', [join(REPO_ROOT, 'scripts', script)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = stdout.trim().split('\n');
  return lines[lines.length - 1]!.trim();
}

export function progress(message: string): void {
  console.error(`bench:server: ${message}`);
}
