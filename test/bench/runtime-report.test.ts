/** The runtime benchmark's TensorFlow marks and per-CPU ratio (bench/runtime/report.ts). */
import assert from 'node:assert/strict';
import type { ModelResults } from '../../bench/runtime/report.js';
import { computeRatios, tfBestMarks, tfCheapest } from '../../bench/runtime/report.js';
import type { ThroughputResult } from '../../bench/runtime/node-measure.js';
import type { TfModelResult } from '../../bench/runtime/python-baseline.js';
import type { Summary } from '../../bench/runtime/stats.js';

const summary = (p50: number): Summary => ({ count: 10, mean: p50, min: p50, p50, p90: p50, p99: p50, max: p50 });
const run = (examplesPerSecond: number, coresBusy: number): ThroughputResult => ({
  batch: 32, concurrency: 1, seconds: 3, requests: 10, requestsPerSecond: examplesPerSecond / 32, examplesPerSecond, coresBusy, latencyMs: summary(10),
});

describe('runtime bench report: which TensorFlow run is best', () => {
  // Two Python threads: more examples/s, but 2 cores for 120/s (60 per CPU-s) against 100/s on 1.25 cores (80).
  const sequential = run(100, 1.25);
  const concurrent = run(120, 2);
  const tf: TfModelResult = { loadMs: 1, latencyMs: summary(5), throughputSequential: sequential, throughputConcurrent: concurrent, throughputBest: concurrent };

  it('marks each row with the best it is, from the figures', () => {
    assert.equal(tfBestMarks(tf, concurrent), ' (best examples/s)');
    assert.equal(tfBestMarks(tf, sequential), ' (best per CPU-s)');
    assert.equal(tfCheapest(tf), sequential);
    const both = { ...tf, throughputConcurrent: run(90, 2), throughputBest: sequential };
    assert.equal(tfBestMarks(both, sequential), ' (best examples/s, per CPU-s)');
  });

  it('divides the engine\'s examples per CPU-second by TensorFlow\'s cheapest run, wall-clock by its fastest', () => {
    const model: ModelResults = {
      key: 'resnet50', label: 'ResNet50', tf, rounds: { node: [], tf: [] },
      node: { native: { loadMs: 1, latencyMs: summary(5), throughput: run(120, 1.2) } },
    };
    const native = computeRatios(model).native!;
    assert.equal(native.throughput, 1);
    // 100 examples per CPU-s against sequential's 80 (not the two threads' 60).
    assert.equal(native.throughputPerCpu, 100 / 80);
  });
});
