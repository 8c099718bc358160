/**
 * Routing test fixtures: a base path whose versions answer differently (so the answer shows which
 * version served it), and small REST helpers.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './corpus.js';

const CLIENT_SCRIPT = join(REPO_ROOT, 'test', 'server', 'grpc-python', 'client.py');

/**
 * `root/name/<v>` for each [version, SavedModel dir]: real version directories whose entries are
 * symlinks (the version source skips a version directory that resolves outside its base path).
 */
export function mixedVersionsBase(root: string, name: string, versions: ReadonlyArray<readonly [number, string]>): string {
  for (const [version, dir] of versions) {
    const target = join(root, name, String(version));
    mkdirSync(target, { recursive: true });
    for (const entry of readdirSync(dir)) symlinkSync(join(dir, entry), join(target, entry));
  }
  return join(root, name);
}

export interface RestAnswer {
  readonly status: number;
  /** X-TFModel-Version, when present. */
  readonly version: string | null;
  readonly body: Record<string, unknown>;
}

export async function restPredictX(port: number, path: string, x: number, headers: Record<string, string> = {}): Promise<RestAnswer> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/models/${path}:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ instances: [[x]] }),
  });
  return { status: response.status, version: response.headers.get('x-tfmodel-version'), body: (await response.json()) as Record<string, unknown> };
}

export async function restJson(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The single prediction of a one-row half_plus_* answer. */
export const firstPrediction = (answer: RestAnswer): number | undefined => (answer.body['predictions'] as number[][] | undefined)?.[0]?.[0];

/** A sample's value from the Prometheus text: `name{labels...}` with every given label matching. */
export function metricSample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const have = Object.fromEntries([...line.slice(name.length + 1, close).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(line.slice(close + 1));
  }
  return undefined;
}

/** One call's result from TF Serving's Python client (test/server/grpc-python/client.py). */
export interface PyResult {
  readonly id: string;
  readonly response?: {
    readonly model_spec: { readonly version: number | null; readonly signature_name?: string };
    readonly outputs?: Record<string, { values: number[] }>;
    readonly classifications?: Array<Array<{ label: string; score: number }>>;
    readonly regressions?: number[];
    readonly results?: Array<{ model_spec: { version: number | null }; classifications?: Array<Array<{ score: number }>>; regressions?: number[] }>;
  };
  readonly error?: { code: string; details: string };
}

/** Makes `calls` in order on one channel with TF Serving's Python client (tensorflow-serving-api). */
export function runPythonClient(python: string, address: string, calls: readonly object[]): Promise<PyResult[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(python, [CLIENT_SCRIPT], { maxBuffer: 16 << 20, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as PyResult[]);
    });
    child.stdin!.end(JSON.stringify({ address, calls }));
  });
}
