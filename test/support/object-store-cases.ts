/**
 * What the object-store source tests (s3://, gs://, az://, https:// archives) share: the two
 * versions they upload, listing a version's files, waiting for a condition, a source whose pushes
 * and problems are recorded, and the end-to-end case every store must pass: the real
 * tfmodel-server serves a model from the store and hot-loads a version uploaded to it.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { memoryLogger } from '../../src/server/logging.js';
import type { AspiredVersionSet } from '../../src/server/core/source.js';
import { ServerProcess, freePortSync } from './server-process.js';
import { servingTestModels } from './test-models.js';

const MODELS = servingTestModels();
/** half_plus_two's SavedModel directory (predicts x/2 + 2). */
export const HALF_PLUS_TWO = join(MODELS.halfPlusTwo, '00000123');
/** half_plus_three's SavedModel directory (predicts x/2 + 3). */
export const HALF_PLUS_THREE = join(MODELS.halfPlusThree, '00000123');

/** The files below `dir`, as sorted relative paths. */
export function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Polls `check` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A logger that keeps its events, as the sources under test get. */
export type MemoryLogger = ReturnType<typeof memoryLogger>;

/** A store test server's object upload (S3TestServer, GcsTestServer, AzureTestServer). */
export type PutObject = (bucket: string, key: string, body: Buffer) => Promise<void>;

/** Uploads a local version directory under `bucket`/`prefix` (only the files `only` accepts, if given). */
export async function uploadVersion(put: PutObject, bucket: string, prefix: string, dir: string, only?: (name: string) => boolean): Promise<void> {
  for (const name of filesOf(dir)) if (!only || only(name)) await put(bucket, `${prefix}/${name}`, readFileSync(join(dir, name)));
}

/** A source under test with what it pushed and the problems it logged. */
export interface RecordedSource<S> {
  readonly src: S;
  readonly log: MemoryLogger;
  readonly pushes: AspiredVersionSet[];
  /** The latest aspired version set pushed. */
  last(): AspiredVersionSet | undefined;
  /** The text of every warning and error logged. */
  problems(): string[];
}

/** Makes a source with `make` (given the logger and the push callback to pass it) and records it. */
export function recordedSource<S>(make: (log: MemoryLogger, onAspired: (set: AspiredVersionSet) => void) => S): RecordedSource<S> {
  const log = memoryLogger();
  const pushes: AspiredVersionSet[] = [];
  const src = make(log, (set) => pushes.push(set));
  return {
    src,
    log,
    pushes,
    last: () => pushes.at(-1),
    problems: () => log.events.filter((e) => e.level !== 'info').map((e) => String(e['problem'] ?? e['reason'] ?? e['error'])),
  };
}

export interface ServedFromStoreCase {
  /** The model's base path in the store, e.g. `s3://models/served/hpt`. */
  readonly basePath: string;
  /** Uploads a version directory as version `version` under the base path. */
  readonly upload: (version: number, dir: string) => Promise<void>;
  /** The store's credentials and endpoint for the server. */
  readonly env: Record<string, string>;
  readonly cacheDir: string;
  /** Where the test registers the server's stop. */
  readonly stops: Array<() => unknown>;
  /** Stops the store, to check the server keeps serving without it (omitted: not checked). */
  readonly stopStore?: () => Promise<void>;
}

/**
 * The real tfmodel-server serves version 1 (half_plus_two) from the store, hot-loads version 2
 * (half_plus_three) uploaded while it runs, and, with `stopStore`, keeps serving version 2 once the
 * store is down, having logged the outage.
 */
export async function checkServedFromStore(c: ServedFromStoreCase): Promise<void> {
  await c.upload(1, HALF_PLUS_TWO);
  const rest = freePortSync();
  const server = ServerProcess.start(
    [`--rest_api_port=${rest}`, '--model_name=hpt', `--model_base_path=${c.basePath}`, `--model_cache_dir=${c.cacheDir}`, '--inference_threads=0'],
    c.env,
  );
  c.stops.push(() => server.stop('SIGKILL'));
  await server.ports();
  const predict = async () => {
    const r = await fetch(`http://127.0.0.1:${rest}/v1/models/hpt:predict`, { method: 'POST', body: JSON.stringify({ instances: [1.0] }) });
    return JSON.stringify({ status: r.status, body: (await r.json()) as unknown });
  };
  const answer = (prediction: number) => JSON.stringify({ status: 200, body: { predictions: [prediction] } });
  assert.equal(await predict(), answer(2.5));
  await c.upload(2, HALF_PLUS_THREE);
  await eventually(async () => (await predict()) === answer(3.5), 'version 2 (half plus three) served');
  if (!c.stopStore) return;
  await c.stopStore();
  await eventually(() => server.events.some((e) => e.event === 'base_path_unreadable'), 'the store outage logged');
  assert.equal(await predict(), answer(3.5), 'still serving with the store down');
  const status = (await (await fetch(`http://127.0.0.1:${rest}/v1/models/hpt`)).json()) as { model_version_status: Array<{ version: string; state: string }> };
  assert.deepEqual(status.model_version_status.map((v) => [v.version, v.state]), [['2', 'AVAILABLE'], ['1', 'END']]);
}
