/**
 * One footprint probe, in a fresh Node process (run with --expose-gc): the RSS this process gains
 * by loading one SavedModel on one engine and answering one request, as the server would hold it.
 *
 *   node --expose-gc dist/bench/memory/footprint-child.js <wasm|tensorflow> <dir> [warm-dir]
 *
 * tensorflow: `warm-dir` is loaded first (libtensorflow's own pages are not the model's). wasm: one
 * worker (the server's per-instance unit; the pool holds --inference_threads of them).
 * Prints one JSON line: { rssBefore, rssAfter }.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelEngine } from '../../src/server/runtime/engine.js';
import { SessionEngine } from '../../src/server/runtime/native/session-engine.js';
import { WorkerPoolEngine } from '../../src/server/runtime/pool/worker-pool.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import type { HostTensor } from '../../src/server/runtime/tensor/host-tensor.js';

async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(200);
  }
  return process.memoryUsage.rss();
}

/** Zeros for every input of serving_default (unknown dimensions as 1). */
function zeros(engine: ModelEngine): Map<string, HostTensor> {
  const signature = engine.signatures.find((s) => s.key === 'serving_default') ?? engine.signatures[0]!;
  const inputs = new Map<string, HostTensor>();
  for (const spec of signature.inputs) {
    const shape = (spec.shape ?? [1]).map((d) => (d < 0 ? 1 : d));
    const n = shape.reduce((a, b) => a * b, 1);
    const data = spec.dtype === DataType.DT_INT32 ? new Int32Array(n)
      : spec.dtype === DataType.DT_INT64 ? new BigInt64Array(n)
        : spec.dtype === DataType.DT_STRING ? Array.from({ length: n }, () => new Uint8Array(0))
          : new Float32Array(n);
    inputs.set(spec.alias, { dtype: spec.dtype, shape, data });
  }
  return inputs;
}

async function load(engine: string, dir: string): Promise<ModelEngine> {
  if (engine === 'tensorflow') return SessionEngine.load(dir);
  return WorkerPoolEngine.load(dir, { backend: 'wasm', threads: 1, tags: undefined });
}

async function main(): Promise<void> {
  const [engine, dir, warmDir] = process.argv.slice(2);
  if (!engine || !dir) throw new Error('usage: footprint-child.js <wasm|tensorflow> <dir> [warm-dir]');
  if (warmDir) await load(engine, warmDir);
  const rssBefore = await settledRss();
  const model = await load(engine, dir);
  await model.run({ signature: model.signatures.find((s) => s.key === 'serving_default')?.key ?? model.signatures[0]!.key, inputs: zeros(model) }).catch(() => undefined);
  const rssAfter = await settledRss();
  console.log(JSON.stringify({ rssBefore, rssAfter }));
  process.exit(0);
}

void main().catch((error: unknown) => {
  console.error(String(error));
  process.exit(1);
});
