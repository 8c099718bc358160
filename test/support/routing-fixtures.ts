/**
 * Routing test fixtures: a base path whose versions answer differently (so the answer shows which
 * version served it), and small REST helpers.
 */
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

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
