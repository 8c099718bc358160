/**
 * Turns the raw figures into ratios against TensorFlow, target verdicts and markdown tables.
 * Ratios are only meaningful within one run (the machine is shared and noisy), which is why
 * every figure of a report comes from the same invocation.
 */
import type { BenchConfig } from './config.js';
import type { LoadTimeResult, MemoryResult } from './memory-probe.js';
import { ENGINE_KEYS, type EngineConfig, type EngineKey } from './engines.js';
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

/** One engine's figures against TensorFlow's on one model. */
export interface EngineRatios {
  /** engine / TF for batch-1 latency: > 1 means the engine is slower. */
  readonly latencyP50: number | null;
  readonly latencyP99: number | null;
  /** engine / TF's best for batch throughput (examples/s): < 1 means the engine is slower. */
  readonly throughput: number | null;
  /**
   * engine / TF for examples per CPU-second (examples/s over cores busy), against TF's cheaper
   * run (tfCheapest): the cost of an example, which other work on a shared machine disturbs far
   * less than wall-clock throughput (that also depends on how many cores each process got).
   */
  readonly throughputPerCpu: number | null;
}

export type Ratios = Partial<Record<EngineKey, EngineRatios>>;

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
  /** The engine configurations that ran, and why the native engine did not (when it did not). */
  readonly engines: readonly EngineConfig[];
  readonly nativeUnavailable: string | undefined;
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
  /** Issue 8: the native engine at least as fast as TensorFlow in-process (latency ratio <= 1). */
  nativeLatencyVsTf: 1,
  nativeThroughputVsTf: 1,
  /** Issue 8: the portable engine's batch-1 latency on the ResNet50-class nets and the LSTM. */
  portableNetLatencyVsTf: 2,
  portableLstmLatencyVsTf: 3,
} as const;

const NATIVE_TARGET_MODELS = ['resnet50', 'mobilenetv2', 'efficientnetb0', 'lstm'];
const NET_MODELS = ['resnet50', 'mobilenetv2', 'efficientnetb0'];

export function computeRatios(model: ModelResults): Ratios {
  const tf = model.tf;
  const ratios: Ratios = {};
  for (const key of ENGINE_KEYS) {
    const engine = model.node[key];
    if (!engine) continue;
    ratios[key] = {
      latencyP50: ratio(engine.latencyMs.p50, tf?.latencyMs.p50),
      latencyP99: ratio(engine.latencyMs.p99, tf?.latencyMs.p99),
      throughput: ratio(engine.throughput.examplesPerSecond, tf?.throughputBest.examplesPerSecond),
      throughputPerCpu: ratio(perCpuSecond(engine.throughput), tf ? perCpuSecond(tfCheapest(tf)) : undefined),
    };
  }
  return ratios;
}

/** Examples per second of process CPU time (all threads). */
export function perCpuSecond(t: ThroughputResult): number | undefined {
  return t.coresBusy > 0 ? t.examplesPerSecond / t.coresBusy : undefined;
}

/**
 * TensorFlow's run with the most examples per CPU-second (sequential or two threads): the one the
 * per-CPU ratio compares with. It need not be the run with the most examples per second (two
 * threads keep more cores busy for fewer examples each).
 */
export function tfCheapest(tf: TfModelResult): ThroughputResult {
  const cost = (t: ThroughputResult): number => perCpuSecond(t) ?? -1;
  return cost(tf.throughputConcurrent) > cost(tf.throughputSequential) ? tf.throughputConcurrent : tf.throughputSequential;
}

/** The "(best ...)" marks of one TensorFlow row, from the figures themselves. */
export function tfBestMarks(tf: TfModelResult, row: ThroughputResult): string {
  const marks = [
    ...(row.examplesPerSecond === tf.throughputBest.examplesPerSecond ? ['examples/s'] : []),
    ...(row === tfCheapest(tf) ? ['per CPU-s'] : []),
  ];
  return marks.length > 0 ? ` (best ${marks.join(', ')})` : '';
}

function verdict(name: string, value: number | null | undefined, comparison: '<=' | '>=', limit: number): TargetVerdict {
  const known = value ?? null;
  const pass = known === null ? null : comparison === '<=' ? known <= limit : known >= limit;
  return { name, value: known, limit, comparison, pass };
}

/** The lower of two ratios that may be missing. */
function best(a: number | null | undefined, b: number | null | undefined): number | null {
  const known = [a, b].filter((v): v is number => typeof v === 'number');
  return known.length > 0 ? Math.min(...known) : null;
}

export function evaluateTargets(
  models: readonly ModelResults[],
  ratios: Readonly<Record<string, Ratios>>,
  load: LoadTimeResult,
  memory: readonly MemoryResult[],
): TargetVerdict[] {
  const targets: TargetVerdict[] = [];
  const cnn = ratios.cnn;
  if (cnn?.['wasm-thread']) targets.push(verdict('CNN batch-1 p50 latency, wasm in-thread / TF', cnn['wasm-thread'].latencyP50, '<=', TARGETS.cnnLatencyVsTf));
  if (cnn?.['wasm-pool']) targets.push(verdict('CNN batch-1 p50 latency, wasm pool / TF', cnn['wasm-pool'].latencyP50, '<=', TARGETS.cnnLatencyVsTf));
  for (const model of models) {
    const pool = ratios[model.key]?.['wasm-pool'];
    if (pool) targets.push(verdict(`${model.label} wasm pool throughput / TF`, pool.throughput, '>=', TARGETS.poolThroughputVsTf));
  }
  for (const model of models.filter((m) => NATIVE_TARGET_MODELS.includes(m.key))) {
    const native = ratios[model.key]?.native;
    if (!native) continue;
    targets.push(verdict(`${model.label} batch-1 p50 latency, native / TF`, native.latencyP50, '<=', TARGETS.nativeLatencyVsTf));
    targets.push(verdict(`${model.label} batch throughput, native / TF`, native.throughput, '>=', TARGETS.nativeThroughputVsTf));
    targets.push(verdict(`${model.label} batch examples per CPU-second, native / TF`, native.throughputPerCpu, '>=', TARGETS.nativeThroughputVsTf));
  }
  for (const model of models.filter((m) => NET_MODELS.includes(m.key) || m.key === 'lstm')) {
    const r = ratios[model.key];
    const value = best(r?.['wasm-thread']?.latencyP50, r?.['wasm-pool']?.latencyP50);
    const limit = model.key === 'lstm' ? TARGETS.portableLstmLatencyVsTf : TARGETS.portableNetLatencyVsTf;
    if (value !== null) targets.push(verdict(`${model.label} batch-1 p50 latency, best wasm / TF`, value, '<=', limit));
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
    for (const engine of results.engines) {
      const figures = model.node[engine.key];
      if (!figures) continue;
      const q = r[engine.key]!;
      rows.push([model.label, engine.label, ms(figures.latencyMs.p50), ms(figures.latencyMs.p99), x(q.latencyP50), x(q.latencyP99)]);
    }
    rows.push([model.label, 'TensorFlow (Python, CPU)', ms(model.tf?.latencyMs.p50), ms(model.tf?.latencyMs.p99), '1.00x', '1.00x']);
  }
  return table(['Model', 'Engine', 'p50 ms', 'p99 ms', 'p50 / TF', 'p99 / TF'], rows);
}

function throughputRow(label: string, engine: string, t: ThroughputResult | undefined, vsTf: string, perCpuVsTf: string): string[] {
  return [
    label, engine, t ? String(t.concurrency) : 'n/a', rate(t?.examplesPerSecond), rate(t?.requestsPerSecond), ms(t?.latencyMs.p50),
    t ? t.coresBusy.toFixed(2) : 'n/a', rate(t ? perCpuSecond(t) : undefined), vsTf, perCpuVsTf,
  ];
}

function throughputTable(results: BenchResults): string {
  const rows: string[][] = [];
  for (const model of results.models) {
    const r = results.ratios[model.key]!;
    for (const engine of results.engines) {
      const figures = model.node[engine.key];
      if (figures) rows.push(throughputRow(model.label, engine.label, figures.throughput, x(r[engine.key]!.throughput), x(r[engine.key]!.throughputPerCpu)));
    }
    const tf = model.tf;
    rows.push(throughputRow(model.label, `TF sequential${tf ? tfBestMarks(tf, tf.throughputSequential) : ''}`, tf?.throughputSequential, '', ''));
    rows.push(throughputRow(model.label, `TF 2 Python threads${tf ? tfBestMarks(tf, tf.throughputConcurrent) : ''}`, tf?.throughputConcurrent, '', ''));
  }
  return table(
    ['Model', 'Engine', 'Concurrency', 'examples/s', 'requests/s', 'p50 ms/request', 'cores busy', 'examples/CPU-s', 'vs TF best examples/s', 'per CPU-s vs TF best per CPU-s'],
    rows,
  );
}

/**
 * A pool that kept fewer cores busy than it has workers was starved by other work on the machine
 * (at concurrency 2 x threads its workers should not wait for requests): say so next to the ratios.
 */
function contentionNotes(results: BenchResults): string[] {
  const threads = results.config.threads;
  const starved = results.models.filter((m) => m.node['wasm-pool'] && m.node['wasm-pool'].throughput.coresBusy < 0.8 * threads);
  if (starved.length === 0) return [];
  const list = starved.map((m) => `${m.label} ${m.node['wasm-pool']!.throughput.coresBusy.toFixed(2)}`).join(', ');
  return [`Note: the wasm pool kept fewer than ${(0.8 * threads).toFixed(1)} of ${threads} cores busy (${list}): most likely other processes held the CPU (or, for tiny requests, dispatch in the main thread was the bottleneck), so its throughput ratios understate an idle machine.`, ''];
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
    `Node ${results.host.node}, ${results.host.cpus} CPUs (1-min load average ${results.host.loadAverageBefore[0]!.toFixed(2)} before, ${results.host.loadAverageAfter[0]!.toFixed(2)} after).`,
    `Engines: ${results.engines.map((e) => `${e.label} at concurrency ${e.concurrencies.join(' and ')}`).join('; ')}.`,
    ...(results.nativeUnavailable ? [`Native engine not measured: ${results.nativeUnavailable}.`] : []),
    tf ? `TensorFlow ${tf.tensorflowVersion} (Python, CPU), intra-op threads ${tf.intraOpThreads || `default (${tf.cpuCount})`}.` : 'TensorFlow baseline skipped.',
    `Latency: batch 1, >= ${c.latencySeconds} s and >= ${c.minLatencySamples} samples per row; throughput: batch ${c.batch}, ${c.throughputSeconds} s window; ${c.warmupSeconds} s warm-up before each.`,
    c.rounds > 1 ? `Best of ${c.rounds} rounds per figure (raw rounds in the JSON).` : 'One round (set BENCH_ROUNDS=2 or more for best-of-N on a busy machine).',
    '"cores busy" is process CPU time / wall time over the throughput window (all threads of the process); "examples/CPU-s" is',
    'examples/s / cores busy, the cost of an example: on a loaded machine wall-clock ratios mostly say which process got more',
    'of the CPU, the per-CPU-second ratio says which engine does an example with less work.',
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
