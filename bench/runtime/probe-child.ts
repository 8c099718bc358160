/**
 * Child-process side of the memory and load-time probes. Each probe runs in a fresh Node process
 * so that its figures do not include what earlier measurements left behind (a warm wasm module,
 * JIT-compiled code, other models' heaps).
 *
 *   node --expose-gc probe-child.js memory <savedModelDir>
 *   node probe-child.js load <savedModelDir> <loads>
 *
 * Prints one JSON object on stdout.
 */
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { type ModelEngine, loadSavedModel } from '../../src/server/runtime/index.js';
import { initTfjs } from '../../src/server/runtime/tfjs/setup.js';
import { summarize } from './stats.js';

export interface MemorySnapshot {
  readonly rss: number;
  /** V8 heap pages committed: after a load's garbage is collected V8 may keep them, and RSS with them. */
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** Bytes of tensors tfjs holds (weights and constants live there once a model is loaded). */
  readonly tfjsTensorBytes: number;
}

export interface MemoryProbeOutput {
  /** After importing the runtime's modules, before tfjs starts. */
  readonly afterImport: MemorySnapshot;
  /** After the wasm backend has started, no model loaded: the fixed base. */
  readonly runtimeInit: MemorySnapshot;
  readonly modelLoaded: MemorySnapshot;
  /** After loading a second copy of the same model: separates one-time costs from per-model ones. */
  readonly secondCopyLoaded: MemorySnapshot;
}

export interface LoadProbeOutput {
  /** Includes wasm start-up and first-time module initialisation. */
  readonly firstMs: number;
  readonly repeatMs: ReturnType<typeof summarize>;
}

/** Full collections until the heap stops shrinking, so RSS reflects live data rather than garbage. */
async function collectGarbage(): Promise<void> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function snapshot(): Promise<MemorySnapshot> {
  await collectGarbage();
  const usage = process.memoryUsage();
  return {
    rss: usage.rss,
    heapTotal: usage.heapTotal,
    heapUsed: usage.heapUsed,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    tfjsTensorBytes: tf.engine().backendName ? tf.memory().numBytes : 0,
  };
}

async function probeMemory(dir: string): Promise<MemoryProbeOutput> {
  const afterImport = await snapshot();
  await initTfjs('wasm');
  const runtimeInit = await snapshot();
  const engines: ModelEngine[] = [await loadSavedModel(dir, { runtime: 'wasm', threads: 0 })];
  const modelLoaded = await snapshot();
  engines.push(await loadSavedModel(dir, { runtime: 'wasm', threads: 0 }));
  const secondCopyLoaded = await snapshot();
  for (const engine of engines) await engine.dispose();
  return { afterImport, runtimeInit, modelLoaded, secondCopyLoaded };
}

async function probeLoad(dir: string, loads: number): Promise<LoadProbeOutput> {
  const times: number[] = [];
  for (let i = 0; i <= loads; i++) {
    const t0 = performance.now();
    const engine = await loadSavedModel(dir, { runtime: 'wasm', threads: 0 });
    times.push(performance.now() - t0);
    await engine.dispose();
  }
  return { firstMs: times[0]!, repeatMs: summarize(times.slice(1)) };
}

async function main(): Promise<void> {
  const [mode, dir, loads] = process.argv.slice(2);
  if (!dir) throw new Error('usage: probe-child.js memory|load <savedModelDir> [loads]');
  const output = mode === 'memory' ? await probeMemory(dir) : await probeLoad(dir, Number(loads ?? 20));
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
