/**
 * The native engine's fixtures (test/runtime/native/generate.py): SavedModels made by real
 * TensorFlow with TensorFlow's own answers, generated once into the cache directory under a hash of
 * the generator and the pins.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/corpus.js';
import { oraclePython } from '../../support/tf-oracle.js';
import { nativeCacheDir } from '../../../src/server/runtime/native/tf-addon.js';
import { dtypeFromNumpyName } from '../../../src/server/runtime/tensor/dtypes.js';
import { type HostTensor, dataFromBytes, numElements } from '../../../src/server/runtime/tensor/host-tensor.js';

export interface RawTensor {
  dtype: string;
  shape: number[];
  bytes?: string;
  values?: string[];
}

export interface FixtureCase {
  signature: string;
  inputs: Record<string, RawTensor>;
  outputs: Record<string, RawTensor>;
}

export interface FixtureModel {
  name: string;
  dir: string;
  cases: FixtureCase[];
}

const GENERATOR = join(REPO_ROOT, 'test', 'runtime', 'native', 'generate.py');

/** The fixtures' models, or a skip reason (throws under CI=true when Python TensorFlow is missing). */
export function nativeFixtures(): { models?: FixtureModel[]; skipReason?: string } {
  const python = oraclePython();
  if (!python.python) return { skipReason: python.skipReason };
  const hash = createHash('sha256')
    .update(readFileSync(GENERATOR))
    .update(readFileSync(join(REPO_ROOT, 'test', 'corpus', 'requirements.txt')))
    .digest('hex')
    .slice(0, 12);
  const out = join(nativeCacheDir(), `native-fixtures-${hash}`);
  if (!existsSync(join(out, 'cases.json'))) {
    const work = `${out}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    execFileSync(python.python, [GENERATOR, '--out', work], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
    // Paths inside cases.json name the work directory; they are rebased on read.
    try {
      renameSync(work, out);
    } catch {
      rmSync(work, { recursive: true, force: true }); // another run finished first
    }
  }
  const parsed = JSON.parse(readFileSync(join(out, 'cases.json'), 'utf8')) as { models: FixtureModel[] };
  return { models: parsed.models.map((m) => ({ ...m, dir: join(out, m.name) })) };
}

export function decodeRaw(t: RawTensor): HostTensor {
  const dtype = dtypeFromNumpyName(t.dtype);
  if (dtype === undefined) throw new Error(`unknown dtype ${t.dtype}`);
  if (t.values) return { dtype, shape: t.shape, data: t.values.map((v) => new Uint8Array(Buffer.from(v, 'base64'))) };
  return { dtype, shape: t.shape, data: dataFromBytes(dtype, numElements(t.shape), Buffer.from(t.bytes!, 'base64')) };
}

/** The tensor's bytes (strings: each element's), for exact comparison. */
export function rawBytes(t: HostTensor): Buffer[] {
  if (Array.isArray(t.data)) return t.data.map((v) => Buffer.from(v));
  const d = t.data as Exclude<HostTensor['data'], Uint8Array[]>;
  return [Buffer.from(d.buffer, d.byteOffset, d.byteLength)];
}
