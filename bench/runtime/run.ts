/**
 * `npm run bench`: our runtime's engines (tfjs wasm in-thread and worker pool, and native
 * libtensorflow when installed) against Python TensorFlow on the same SavedModels, all in one run. Prints a markdown report and writes the raw figures to
 * dist/bench-results/runtime.json. Progress goes to stderr so that stdout is just the report.
 *
 * Order matters on a 2-core machine: nothing is measured while something else of ours runs, and
 * each model's TensorFlow figures are taken right after ours so that both see similar load.
 * Durations and scope come from BENCH_* environment variables (see config.ts); profile.ts and
 * profile-summary.ts are for digging into one configuration.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { bestNodeResult, bestTfResult } from './aggregate.js';
import { readConfig } from './config.js';
import { type MemoryResult, probeLoadTime, probeMemory } from './memory-probe.js';
import { type EngineConfig, engineConfigs, nativeAvailability } from './engines.js';
import { HALF_PLUS_TWO_DIR, REPO_ROOT, type BenchModel, type CorpusModelSize, benchModels, corpusModelSizes, locateCorpus, locatePythonVenv } from './models.js';
import { type NodeModelResult, measureNodeModel } from './node-measure.js';
import { TfBaselineProcess, type TfModelResult } from './python-baseline.js';
import { type BenchResults, type ModelResults, type Ratios, computeRatios, evaluateTargets, renderReport } from './report.js';

function progress(message: string): void {
  console.error(`bench: ${message}`);
}

/**
 * The models whose memory is probed: the three benchmark models plus the corpus' largest by
 * weights and by graph size, since the corpus holds no model with more than a few KB of weights.
 */
function memoryModels(models: readonly BenchModel[], sizes: readonly CorpusModelSize[]): { list: CorpusModelSize[]; note: string } {
  const largestWeights = sizes[0]!;
  const largestGraph = [...sizes].sort((a, b) => b.graphBytes - a.graphBytes)[0]!;
  const names = new Set([...models.flatMap((m) => (m.corpusName ? [m.corpusName] : [])), largestWeights.name, largestGraph.name]);
  const list = [...names].flatMap((name) => sizes.filter((s) => s.name === name));
  const note =
    `The largest corpus model by weights is ${largestWeights.name} ` +
    `(${(largestWeights.weightBytes / 2 ** 20).toFixed(2)} MB of variable files), the largest graph is ${largestGraph.name} ` +
    `(${(largestGraph.graphBytes / 1024).toFixed(0)} KB saved_model.pb). For models with only KB of weights the RSS ` +
    'delta measures per-model overhead (graph, kernels, tfjs bookkeeping), not weight storage; "weights" is the bytes ' +
    'of the tensors the loaded model holds.';
  return { list, note };
}

interface ModelRounds {
  readonly model: BenchModel;
  readonly node: NodeModelResult[];
  readonly tf: TfModelResult[];
}

async function measureRounds(
  models: readonly BenchModel[],
  engines: readonly EngineConfig[],
  tf: TfBaselineProcess | undefined,
  config: ReturnType<typeof readConfig>,
): Promise<ModelRounds[]> {
  const all: ModelRounds[] = models.map((model) => ({ model, node: [], tf: [] }));
  for (let round = 1; round <= config.rounds; round++) {
    for (const entry of all) {
      const label = `${entry.model.label}${config.rounds > 1 ? ` (round ${round}/${config.rounds})` : ''}`;
      progress(`${label}: ${engines.map((e) => e.label).join(', ')}`);
      entry.node.push(await measureNodeModel(entry.model, config, engines));
      if (tf) {
        progress(`${label}: Python TensorFlow`);
        entry.tf.push(await tf.measureModel(entry.model, config));
      }
    }
  }
  return all;
}

async function main(): Promise<void> {
  const started = Date.now();
  // Other work on the machine skews every figure; the load average tells a reader how much.
  const loadAverageBefore = loadavg();
  const config = readConfig();
  const corpus = locateCorpus();
  const models = benchModels(config.models);
  let engines = engineConfigs(config);
  let nativeUnavailable: string | undefined;
  if (engines.some((e) => e.key === 'native')) {
    const native = await nativeAvailability();
    if (!native.available) {
      nativeUnavailable = native.reason;
      engines = engines.filter((e) => e.key !== 'native');
      progress(`native engine not measured: ${native.reason}`);
    }
  }
  const tf = config.skipTensorflow ? undefined : await TfBaselineProcess.start(locatePythonVenv());
  try {
    progress(`load time of half_plus_two (${config.loads} loads, fresh process)`);
    const loadOurs = await probeLoadTime(HALF_PLUS_TWO_DIR, config.loads);
    const loadTf = tf ? await tf.measureLoad(HALF_PLUS_TWO_DIR, config.loads) : null;

    const { list: memoryList, note: memoryNote } = memoryModels(models, corpusModelSizes(corpus));
    const memory: MemoryResult[] = [];
    for (const m of memoryList) {
      progress(`memory of ${m.name} (fresh process)`);
      memory.push(await probeMemory(m.name, m.dir, m.weightBytes));
    }

    const rounds = await measureRounds(models, engines, tf, config);
    const modelResults: ModelResults[] = rounds.map(({ model, node, tf: tfRounds }) => ({
      key: model.key,
      label: model.label,
      node: bestNodeResult(node),
      tf: tfRounds.length > 0 ? bestTfResult(tfRounds) : undefined,
      rounds: { node, tf: tfRounds },
    }));
    const ratios: Record<string, Ratios> = Object.fromEntries(modelResults.map((m) => [m.key, computeRatios(m)]));
    const results: BenchResults = {
      generatedAt: new Date().toISOString(),
      host: {
        node: process.version,
        cpus: availableParallelism(),
        platform: `${process.platform}-${process.arch}`,
        loadAverageBefore,
        loadAverageAfter: loadavg(),
      },
      config,
      tensorflow: tf?.info ?? null,
      engines,
      nativeUnavailable,
      models: modelResults,
      ratios,
      load: { model: 'saved_model_half_plus_two_cpu/00000123', ours: loadOurs, tf: loadTf },
      memory: { note: memoryNote, results: memory },
      targets: evaluateTargets(modelResults, ratios, loadOurs, memory),
    };

    const outDir = join(REPO_ROOT, 'dist', 'bench-results');
    mkdirSync(outDir, { recursive: true });
    const outFile = join(outDir, 'runtime.json');
    writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(renderReport(results));
    progress(`raw figures in ${outFile}; took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await tf?.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
