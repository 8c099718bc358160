/**
 * Latency and throughput of our runtime's engines (engines.ts). Each configuration is warmed up
 * first: the first runs of a tfjs graph compile kernels and allocate the wasm heap, and
 * libtensorflow builds its executors on the first run, which is not what a serving process pays
 * per request.
 */
import { performance } from 'node:perf_hooks';
import { DataType, type HostTensor, type ModelEngine, loadSavedModel } from '../../src/server/runtime/index.js';
import type { BenchConfig } from './config.js';
import type { EngineConfig, EngineKey } from './engines.js';
import { type BenchModel, SIGNATURE } from './models.js';
import { type Summary, summarize } from './stats.js';

export interface ThroughputResult {
  readonly batch: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly examplesPerSecond: number;
  /** Process CPU time (all threads) / wall time: how many cores the configuration kept busy. */
  readonly coresBusy: number;
  /** Per-request latency under this load (ms). */
  readonly latencyMs: Summary;
}

export interface EngineResult {
  readonly loadMs: number;
  /** Batch-1 requests, one at a time (ms). */
  readonly latencyMs: Summary;
  /** The best of the engine's concurrency levels. */
  readonly throughput: ThroughputResult;
}

/** One model's figures per engine configuration that ran. */
export type NodeModelResult = Partial<Record<EngineKey, EngineResult>>;

/** Random float32 inputs of the model's signature shapes with the given batch size. */
export function randomInputs(model: BenchModel, batch: number): Map<string, HostTensor> {
  const inputs = new Map<string, HostTensor>();
  for (const spec of model.inputs) {
    const shape = [batch, ...spec.exampleShape];
    const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
    for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
    inputs.set(spec.alias, { dtype: DataType.DT_FLOAT, shape, data });
  }
  return inputs;
}

/** Keeps `concurrency` requests in flight until the deadline; returns each request's latency. */
async function closedLoop(
  engine: ModelEngine,
  inputs: Map<string, HostTensor>,
  concurrency: number,
  seconds: number,
): Promise<{ samples: number[]; elapsedMs: number; cpuMs: number }> {
  const samples: number[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  async function client(): Promise<void> {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await engine.run({ signature: SIGNATURE, inputs });
      samples.push(performance.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsedMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { samples, elapsedMs, cpuMs: (used.user + used.system) / 1000 };
}

/** Batch-1 latency, one request at a time, until both the time and the sample count are reached. */
async function measureLatency(engine: ModelEngine, model: BenchModel, config: BenchConfig, warmupConcurrency: number): Promise<Summary> {
  const inputs = randomInputs(model, 1);
  await closedLoop(engine, inputs, warmupConcurrency, config.warmupSeconds);
  const samples: number[] = [];
  const start = performance.now();
  // Hard cap so that a pathologically slow configuration cannot stall the whole benchmark.
  const cap = start + config.latencySeconds * 5000;
  while ((performance.now() - start < config.latencySeconds * 1000 || samples.length < config.minLatencySamples) && performance.now() < cap) {
    const t0 = performance.now();
    await engine.run({ signature: SIGNATURE, inputs });
    samples.push(performance.now() - t0);
  }
  return summarize(samples);
}

async function measureThroughput(engine: ModelEngine, model: BenchModel, config: BenchConfig, concurrency: number): Promise<ThroughputResult> {
  const inputs = randomInputs(model, config.batch);
  await closedLoop(engine, inputs, concurrency, config.warmupSeconds);
  const { samples, elapsedMs, cpuMs } = await closedLoop(engine, inputs, concurrency, config.throughputSeconds);
  const seconds = elapsedMs / 1000;
  return {
    batch: config.batch,
    concurrency,
    seconds,
    requests: samples.length,
    requestsPerSecond: samples.length / seconds,
    examplesPerSecond: (samples.length * config.batch) / seconds,
    coresBusy: cpuMs / elapsedMs,
    latencyMs: summarize(samples),
  };
}

async function measureEngine(model: BenchModel, config: BenchConfig, engineConfig: EngineConfig): Promise<EngineResult> {
  const t0 = performance.now();
  const engine = await loadSavedModel(model.dir, { runtime: engineConfig.runtime, threads: engineConfig.threads });
  const loadMs = performance.now() - t0;
  try {
    const latencyMs = await measureLatency(engine, model, config, Math.max(...engineConfig.concurrencies));
    const runs: ThroughputResult[] = [];
    for (const concurrency of engineConfig.concurrencies) runs.push(await measureThroughput(engine, model, config, concurrency));
    const throughput = runs.reduce((best, r) => (r.examplesPerSecond > best.examplesPerSecond ? r : best));
    return { loadMs, latencyMs, throughput };
  } finally {
    await engine.dispose();
  }
}

/** One engine at a time, each disposed before the next loads. */
export async function measureNodeModel(model: BenchModel, config: BenchConfig, engines: readonly EngineConfig[]): Promise<NodeModelResult> {
  const result: NodeModelResult = {};
  for (const engine of engines) result[engine.key] = await measureEngine(model, config, engine);
  return result;
}
