/**
 * Best-of-rounds selection (BENCH_ROUNDS > 1). Each figure keeps the round in which it was best:
 * lowest p50 latency (with that round's p99), highest throughput. External load on a shared
 * machine only ever makes figures worse, so the best round is the least disturbed one.
 */
import { ENGINE_KEYS } from './engines.js';
import type { EngineResult, NodeModelResult, ThroughputResult } from './node-measure.js';
import type { TfModelResult } from './python-baseline.js';
import type { Summary } from './stats.js';

function fastestLatency(rounds: readonly Summary[]): Summary {
  return rounds.reduce((best, r) => (r.p50 < best.p50 ? r : best));
}

function fastestThroughput(rounds: readonly ThroughputResult[]): ThroughputResult {
  return rounds.reduce((best, r) => (r.examplesPerSecond > best.examplesPerSecond ? r : best));
}

function bestEngine(rounds: readonly EngineResult[]): EngineResult {
  return {
    loadMs: Math.min(...rounds.map((r) => r.loadMs)),
    latencyMs: fastestLatency(rounds.map((r) => r.latencyMs)),
    throughput: fastestThroughput(rounds.map((r) => r.throughput)),
  };
}

export function bestNodeResult(rounds: readonly NodeModelResult[]): NodeModelResult {
  const best: NodeModelResult = {};
  for (const key of ENGINE_KEYS) {
    const results = rounds.flatMap((r) => (r[key] ? [r[key]] : []));
    if (results.length > 0) best[key] = bestEngine(results);
  }
  return best;
}

export function bestTfResult(rounds: readonly TfModelResult[]): TfModelResult {
  const throughputSequential = fastestThroughput(rounds.map((r) => r.throughputSequential));
  const throughputConcurrent = fastestThroughput(rounds.map((r) => r.throughputConcurrent));
  return {
    loadMs: Math.min(...rounds.map((r) => r.loadMs)),
    latencyMs: fastestLatency(rounds.map((r) => r.latencyMs)),
    throughputSequential,
    throughputConcurrent,
    throughputBest: fastestThroughput([throughputSequential, throughputConcurrent]),
  };
}
