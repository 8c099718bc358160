/**
 * Turns the raw figures into ratios against TensorFlow, target verdicts and markdown tables.
 * Ratios are only meaningful within one run (the machine is shared and noisy), which is why
 * every figure of a report comes from the same invocation.
 */
import type { BenchConfig } from './config.js';
import type { LoadTimeResult, MemoryResult } from './memory-probe.js';
import type { NodeModelResult, ThroughputResult } from './node-measure.js';
import type { TfInfo, TfLoadResult, TfModelResult } from './python-baseline.js';
import { ratio } from './stats.js';

export interface ModelResults {
  readonly key: string;
  readonly label: string;
  readonly node: NodeModelResult;
  readonly tf: TfModelResult | undefined;
  /** Every round's figures; node and tf above are the best of these. */
  readonly rounds: { readonly node: readonly NodeModelResult[]; readonly tf: readonly TfModelResult[] };
}

export interface TargetVerdict {
  readonly name: string;
  readonly value: number | null;
  readonly limit: number;
  readonly comparison: '<=' | '>=';
  readonly pass: boolean | null;
}

export interface Ratios {
  /** ours / TF for batch-1 latency: > 1 means we are slower. */
  readonly latencyInThreadP50: number | null;
  readonly latencyInThreadP99: number | null;
  readonly latencyPoolP50: number | null;
  readonly latencyPoolP99: number | null;
  /** ours / TF's best for batch throughput (examples/s): < 1 means we are slower. */
  readonly throughputInThread: number | null;
  readonly throughputPool: number | null;
}

export interface BenchResults {
  readonly generatedAt: string;
  readonly host: {
    readonly node: string;
    readonly cpus: number;
    readonly platform: string;
    /** 1, 5 and 15 minute load averages when the run started and ended. */
    readonly loadAverageBefore: readonly number[];
    readonly loadAverageAfter: readonly number[];
  };
  readonly config: BenchConfig;
  readonly tensorflow: TfInfo | null;
  readonly models: readonly ModelResults[];
  readonly ratios: Readonly<Record<string, Ratios>>;
  readonly load: { readonly model: string; readonly ours: LoadTimeResult; readonly tf: TfLoadResult | null };
  readonly memory: { readonly note: string; readonly results: readonly MemoryResult[] };
  readonly targets: readonly TargetVerdict[];
}

export const TARGETS = {
  cnnLatencyVsTf: 2,
  poolThroughputVsTf: 0.8,
  loadMs: 100,
  rssPerWeightByte: 1.5,
} as const;

export function computeRatios(model: ModelResults): Ratios {
  const tf = model.tf;
  const best = tf?.throughputBest.examplesPerSecond;
  return {
    latencyInThreadP50: ratio(model.node.inThread.latencyMs.p50, tf?.latencyMs.p50),
    latencyInThreadP99: ratio(model.node.inThread.latencyMs.p99, tf?.latencyMs.p99),
    latencyPoolP50: ratio(model.node.pool.latencyMs.p50, tf?.latencyMs.p50),
    latencyPoolP99: ratio(model.node.pool.latencyMs.p99, tf?.latencyMs.p99),
    throughputInThread: ratio(model.node.inThread.throughput.examplesPerSecond, best),
    throughputPool: ratio(model.node.pool.throughput.examplesPerSecond, best),
  };
}

function verdict(name: string, value: number | null, comparison: '<=' | '>=', limit: number): TargetVerdict {
  const pass = value === null ? null : comparison === '<=' ? value <= limit : value >= limit;
  return { name, value, limit, comparison, pass };
}

export function evaluateTargets(
  models: readonly ModelResults[],
  ratios: Readonly<Record<string, Ratios>>,
  load: LoadTimeResult,
  memory: readonly MemoryResult[],
): TargetVerdict[] {
  const targets: TargetVerdict[] = [];
  const cnn = ratios.cnn;
  if (cnn) {
    targets.push(verdict('CNN batch-1 p50 latency, in-thread / TF', cnn.latencyInThreadP50, '<=', TARGETS.cnnLatencyVsTf));
    targets.push(verdict('CNN batch-1 p50 latency, pool / TF', cnn.latencyPoolP50, '<=', TARGETS.cnnLatencyVsTf));
  }
  for (const model of models) {
    targets.push(verdict(`${model.label} pool throughput / TF`, ratios[model.key]?.throughputPool ?? null, '>=', TARGETS.poolThroughputVsTf));
  }
  targets.push(verdict('half_plus_two load time p50 (ms)', load.repeatMs.p50, '<=', TARGETS.loadMs));
  for (const m of memory) {
    targets.push(verdict(`${m.model} RSS delta / weight bytes`, Number.isFinite(m.deltaPerWeightByte) ? m.deltaPerWeightByte : null, '<=', TARGETS.rssPerWeightByte));
  }
  return targets;
}

function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return value < 1 ? value.toFixed(3) : value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function x(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(2)}x`;
}

function rate(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : value >= 100 ? Math.round(value).toString() : value.toFixed(1);
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(2)} MB`;
}

function mark(pass: boolean | null): string {
  return pass === null ? 'n/a' : pass ? 'PASS' : 'MISS';
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function latencyTable(results: BenchResults): string {
  const rows: string[][] = [];
  for (const model of results.models) {
    const r = results.ratios[model.key]!;
    const target = model.key === 'cnn' ? `<= ${TARGETS.cnnLatencyVsTf}x` : '';
    const check = (value: number | null): string => (target && value !== null ? `${target} ${mark(value <= TARGETS.cnnLatencyVsTf)}` : '');
    const { inThread, pool } = model.node;
    rows.push([model.label, 'ours in-thread (threads: 0)', ms(inThread.latencyMs.p50), ms(inThread.latencyMs.p99), x(r.latencyInThreadP50), x(r.latencyInThreadP99), check(r.latencyInThreadP50)]);
    rows.push([model.label, `ours pool (threads: ${pool.threads})`, ms(pool.latencyMs.p50), ms(pool.latencyMs.p99), x(r.latencyPoolP50), x(r.latencyPoolP99), check(r.latencyPoolP50)]);
    rows.push([model.label, 'TensorFlow (Python, CPU)', ms(model.tf?.latencyMs.p50), ms(model.tf?.latencyMs.p99), '1.00x', '1.00x', '']);
  }
  return table(['Model', 'Engine', 'p50 ms', 'p99 ms', 'p50 / TF', 'p99 / TF', 'Target (p50)'], rows);
}

function throughputRow(label: string, engine: string, t: ThroughputResult | undefined, vsTf: string, target: string): string[] {
  return [
    label, engine, t ? String(t.concurrency) : 'n/a', rate(t?.examplesPerSecond), rate(t?.requestsPerSecond), ms(t?.latencyMs.p50),
    t ? t.coresBusy.toFixed(2) : 'n/a', vsTf, target,
  ];
}

function throughputTable(results: BenchResults): string {
  const rows: string[][] = [];
  for (const model of results.models) {
    const r = results.ratios[model.key]!;
    const { inThread, pool } = model.node;
    const tf = model.tf;
    const poolTarget = r.throughputPool === null ? '' : `>= ${TARGETS.poolThroughputVsTf}x ${mark(r.throughputPool >= TARGETS.poolThroughputVsTf)}`;
    const best = tf?.throughputBest === tf?.throughputConcurrent ? 'concurrent' : 'sequential';
    rows.push(throughputRow(model.label, 'ours in-thread (sequential)', inThread.throughput, x(r.throughputInThread), ''));
    rows.push(throughputRow(model.label, `ours pool (threads: ${pool.threads})`, pool.throughput, x(r.throughputPool), poolTarget));
    rows.push(throughputRow(model.label, `TF sequential${best === 'sequential' ? ' (best)' : ''}`, tf?.throughputSequential, '', ''));
    rows.push(throughputRow(model.label, `TF 2 Python threads${best === 'concurrent' ? ' (best)' : ''}`, tf?.throughputConcurrent, '', ''));
  }
  return table(['Model', 'Engine', 'Concurrency', 'examples/s', 'requests/s', 'p50 ms/request', 'cores busy', 'vs TF best', 'Target'], rows);
}

/**
 * A pool that kept fewer cores busy than it has workers was starved by other work on the machine
 * (at concurrency 2 x threads its workers should not wait for requests): say so next to the ratios.
 */
function contentionNotes(results: BenchResults): string[] {
  const threads = results.config.threads;
  const starved = results.models.filter((m) => m.node.pool.throughput.coresBusy < 0.8 * threads);
  if (starved.length === 0) return [];
  const list = starved.map((m) => `${m.label} ${m.node.pool.throughput.coresBusy.toFixed(2)}`).join(', ');
  return [`Note: the pool kept fewer than ${(0.8 * threads).toFixed(1)} of ${threads} cores busy (${list}): most likely other processes held the CPU (or, for tiny requests, dispatch in the main thread was the bottleneck), so its throughput ratios understate an idle machine.`, ''];
}

function loadTable(results: BenchResults): string {
  const { ours, tf } = results.load;
  return table(
    ['Loader', 'first load ms', 'p50 ms (repeat loads)', 'p99 ms', 'Target (p50)'],
    [
      ['ours loadSavedModel (wasm, threads: 0)', ms(ours.firstMs), ms(ours.repeatMs.p50), ms(ours.repeatMs.p99), `< ${TARGETS.loadMs} ms ${mark(ours.repeatMs.p50 < TARGETS.loadMs)}`],
      ['TF tf.saved_model.load', ms(tf?.firstMs), ms(tf?.repeatMs.p50), ms(tf?.repeatMs.p99), ''],
    ],
  );
}

function memoryTable(results: BenchResults): string {
  const rows = results.memory.results.map((m) => [
    m.model,
    `${(m.weightBytes / 1024).toFixed(1)} KB`,
    mb(m.runtimeInit.rss),
    mb(m.rssDelta),
    `${m.deltaPerWeightByte.toFixed(0)}x`,
    mb(m.secondCopyDelta),
    mb(m.modelLoaded.heapUsed - m.runtimeInit.heapUsed),
    mb(m.modelLoaded.heapTotal - m.runtimeInit.heapTotal),
    `${((m.modelLoaded.tfjsTensorBytes - m.runtimeInit.tfjsTensorBytes) / 1024).toFixed(1)} KB`,
    `<= ${TARGETS.rssPerWeightByte}x ${mark(m.deltaPerWeightByte <= TARGETS.rssPerWeightByte)}`,
  ]);
  return table(['Model', 'weights', 'base RSS (runtime init)', 'RSS delta (1st load)', 'delta / weights', 'RSS delta (2nd copy)', 'live JS heap delta', 'V8 heap committed delta', 'tfjs tensor bytes', 'Target'], rows);
}

export function renderReport(results: BenchResults): string {
  const c = results.config;
  const tf = results.tensorflow;
  const lines = [
    `# tfmodel runtime benchmark (${results.generatedAt})`,
    '',
    `Node ${results.host.node}, ${results.host.cpus} CPUs (1-min load average ${results.host.loadAverageBefore[0]!.toFixed(2)} before, ${results.host.loadAverageAfter[0]!.toFixed(2)} after); ours: tfjs wasm backend, pool of ${c.threads} worker threads at concurrency ${2 * c.threads}.`,
    tf ? `TensorFlow ${tf.tensorflowVersion} (Python, CPU), intra-op threads ${tf.intraOpThreads || `default (${tf.cpuCount})`}.` : 'TensorFlow baseline skipped.',
    `Latency: batch 1, >= ${c.latencySeconds} s and >= ${c.minLatencySamples} samples per row; throughput: batch ${c.batch}, ${c.throughputSeconds} s window; ${c.warmupSeconds} s warm-up before each.`,
    c.rounds > 1 ? `Best of ${c.rounds} rounds per figure (raw rounds in the JSON).` : 'One round (set BENCH_ROUNDS=2 or more for best-of-N on a busy machine).',
    '"cores busy" is process CPU time / wall time over the throughput window (all threads of the process).',
    '',
    '## Batch-1 latency',
    '',
    latencyTable(results),
    '',
    `## Throughput at batch ${c.batch}`,
    '',
    throughputTable(results),
    '',
    ...contentionNotes(results),
    `## Load time (${results.load.model})`,
    '',
    loadTable(results),
    '',
    '## Resident memory after loading (fresh process per model, after forced GC)',
    '',
    memoryTable(results),
    '',
    ...results.memory.results.map(
      (m) => `- ${m.model}: RSS delta = ${mb(m.rssDelta)} for ${(m.weightBytes / 2 ** 20).toFixed(3)} MB of weights (${m.deltaPerWeightByte.toFixed(0)}x); fixed base ${mb(m.runtimeInit.rss)}`,
    ),
    `- ${results.memory.note}`,
    '',
    '## Targets',
    '',
    table(
      ['Target', 'Value', 'Limit', 'Verdict'],
      results.targets.map((t) => [t.name, t.value === null ? 'n/a' : t.value.toFixed(2), `${t.comparison} ${t.limit}`, mark(t.pass)]),
    ),
  ];
  return lines.join('\n');
}
