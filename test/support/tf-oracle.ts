/** Asks real TensorFlow (test/support/tf_oracle.py in the corpus venv) what signatures return. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type JsonTensor, REPO_ROOT } from './corpus.js';
import { requirePrerequisite } from './prerequisites.js';

export interface OracleRequest {
  dir: string;
  tags?: string[];
  signature: string;
  inputs: Record<string, JsonTensor>;
}

export type OracleResult = { outputs: Record<string, JsonTensor>; error?: undefined } | { error: string; outputs?: undefined };

/** The corpus venv's python, or a skip reason (throws under CI=true). */
export function oraclePython(): { python?: string; skipReason?: string } {
  const result = requirePrerequisite('Python TensorFlow (the test oracle)', 'it needs python3 with venv/pip and PyPI access', () => {
    const out = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'python-env.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return join(out.trim().split('\n').pop()!, 'bin', 'python');
  });
  return { python: result.value, skipReason: result.skipReason };
}

/** Runs all requests in one Python process (models load once; calls run in order). */
export function askTensorFlow(python: string, requests: OracleRequest[]): OracleResult[] {
  const out = execFileSync(python, [join(REPO_ROOT, 'test', 'support', 'tf_oracle.py')], {
    input: JSON.stringify(requests),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return JSON.parse(out) as OracleResult[];
}

/** Builds a corpus-format tensor. */
export function jsonTensor(dtype: string, shape: number[], values: Array<number | string | boolean>): JsonTensor {
  return { dtype, shape, values };
}
