/**
 * `npm run bench:memory`: the memory and reload figures of issue 11 section 3, in one run.
 *
 *   BENCH_SECTIONS=footprint,reload,cycles (default all)
 *
 * - footprint: RSS per model and engine against its bytes on disk (the estimate's factor).
 * - reload: p99 of model A under steady load while model B (ResNet50-size) reloads every few
 *   seconds, against A's p99 with B idle, in the same run.
 * - cycles: RSS after N load/unload cycles of one version (growth against the first cycles), by
 *   kind (anon/file, V8 heap), once per BENCH_CYCLE_VARIANTS server environment.
 * Results: dist/bench-results/memory.json and a markdown table on stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applicationBenchModels, locateApplicationModels, locateCorpus } from '../runtime/models.js';
import { HALF_PLUS_TWO_VERSION_DIR, RESULTS_DIR } from '../server/paths.js';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { footprintTable, measureFootprints } from './footprint.js';
import { runReloadSection } from './reload.js';
import { cyclesTable, runCyclesSection } from './cycles.js';


const log = (m: string): void => console.error(`bench:memory: ${m}`);

async function main(): Promise<void> {
  const sections = (process.env['BENCH_SECTIONS'] ?? 'footprint,reload,cycles').split(',');
  const results: Record<string, unknown> = {};
  const out: string[] = [];
  if (sections.includes('footprint')) {
    const corpus = locateCorpus();
    const apps = applicationBenchModels(locateApplicationModels());
    const models = [
      ...['keras_cnn', 'keras_lstm', 'keras_mobilenet_v3'].map((name) => ({ name, dir: join(corpus, name, 'model') })),
      ...apps.map((m) => ({ name: m.key, dir: m.dir })),
    ];
    const engines = (process.env['BENCH_ENGINES'] ?? 'tensorflow,wasm').split(',');
    const rows = await measureFootprints(engines, { name: 'half_plus_two', dir: HALF_PLUS_TWO_VERSION_DIR }, models, log);
    results['footprint'] = rows;
    out.push('## footprint', footprintTable(rows));
  }
  const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
  const runtime = process.env['BENCH_RUNTIME'] ?? 'tensorflow';
  const workDir = mkdtempSync(join(tmpdir(), 'tfmodel-bench-memory-'));
  try {
    if (sections.includes('reload')) {
      const [resnet] = applicationBenchModels(locateApplicationModels(), ['resnet50']);
      const r = await runReloadSection(join(workDir, 'reload'), { name: 'b', dir: resnet!.dir }, {
        runtime, concurrency: env('BENCH_CONCURRENCY', 4), phaseSeconds: env('BENCH_SECONDS', 15), reloadSeconds: env('BENCH_RELOAD_SECONDS', 3), rounds: env('BENCH_ROUNDS', 2),
      }, log);
      results['reload'] = r;
      out.push(['## reload (model A p99 while ResNet50 reloads, same server, same run)',
        '| phase | requests | errors | p50 (ms) | p99 (ms) |', '|---|---:|---:|---:|---:|',
        `| B idle | ${r.idle.requests} | ${r.idle.errors} | ${r.idle.p50.toFixed(2)} | ${r.idle.p99.toFixed(2)} |`,
        `| B reloading (${r.reloads} reloads) | ${r.reloading.requests} | ${r.reloading.errors} | ${r.reloading.p50.toFixed(2)} | ${r.reloading.p99.toFixed(2)} |`,
        `\np99 ratio reloading / idle: ${r.ratio.toFixed(2)} (target <= 1.2); runtime ${r.runtime}${r.firstError ? `; first error: ${r.firstError}` : ''}`,
        '\n| round | phase | server loop lag max (ms) | lag p99 (ms) | main-thread CPU | process CPU | load average |', '|---:|---|---:|---:|---:|---:|---:|',
        ...r.diagnostics.flatMap((d, i) => (['idle', 'reloading'] as const).map((phase) =>
          `| ${i + 1} | ${phase} | ${d[phase].loopLagMaxMs.toFixed(1)} | ${d[phase].loopLagP99Ms.toFixed(1)} | ${d[phase].mainThreadCpu.toFixed(2)} | ${d[phase].processCpu.toFixed(2)} | ${d[phase].loadAverage.toFixed(1)} |`))].join('\n'));
    }
    if (sections.includes('cycles')) {
      const key = process.env['BENCH_CYCLE_MODEL'] ?? 'mobilenetv2';
      const [model] = applicationBenchModels(locateApplicationModels(), [key]);
      const variants = (process.env['BENCH_CYCLE_VARIANTS'] ?? 'default').split(',');
      const c = await runCyclesSection(join(workDir, 'cycles'), { name: key, dir: model!.dir }, { runtime, cycles: env('BENCH_CYCLES', 100), variants }, log);
      results['cycles'] = c;
      out.push(cyclesTable(c));
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'memory.json'), JSON.stringify(results, null, 2));
  console.log(out.join('\n\n'));
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
