/**
 * `npm run bench:memory`: the memory and reload figures of issue 11 section 3, in one run.
 *
 *   BENCH_SECTIONS=footprint,reload,cycles (default all)
 *
 * - footprint: RSS per model and engine against its bytes on disk (the estimate's factor).
 * - reload: p99 of model A under steady load while model B (ResNet50-size) reloads every few
 *   seconds, against A's p99 with B idle, in the same run.
 * - cycles: RSS after N load/unload cycles of one version (growth against the first cycles).
 * Results: dist/bench-results/memory.json and a markdown table on stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applicationBenchModels, locateApplicationModels, locateCorpus } from '../runtime/models.js';
import { HALF_PLUS_TWO_VERSION_DIR, RESULTS_DIR } from '../server/paths.js';
import { footprintTable, measureFootprints } from './footprint.js';


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
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'memory.json'), JSON.stringify(results, null, 2));
  console.log(out.join('\n\n'));
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
