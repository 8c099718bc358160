/**
 * A small driver to profile one model configuration, e.g.
 *
 *   node --cpu-prof --cpu-prof-dir=dist/bench-results/profiles dist/bench/runtime/profile.js cnn 32 5
 *   node dist/bench/runtime/profile-summary.js dist/bench-results/profiles/*.cpuprofile
 *
 * Arguments: model key (mlp|cnn|lstm|resnet50|mobilenetv2|efficientnetb0), batch (default 1),
 * seconds (default 5), threads (default 0), runtime (default wasm).
 * With threads > 0 Node writes one profile per worker thread as well.
 */
import { performance } from 'node:perf_hooks';
import { type RuntimeSelection, loadSavedModel } from '../../src/server/runtime/index.js';
import { benchModels, SIGNATURE } from './models.js';
import { randomInputs } from './node-measure.js';

async function main(): Promise<void> {
  const [key = 'cnn', batchText = '1', secondsText = '5', threadsText = '0', runtime = 'wasm'] = process.argv.slice(2);
  const model = benchModels([key])[0];
  if (!model) throw new Error(`unknown model ${key}`);
  const threads = Number(threadsText);
  const engine = await loadSavedModel(model.dir, { runtime: runtime as RuntimeSelection, threads });
  const inputs = randomInputs(model, Number(batchText));
  const concurrency = threads === 0 ? 1 : 2 * threads;
  const deadline = performance.now() + Number(secondsText) * 1000;
  let requests = 0;
  async function client(): Promise<void> {
    while (performance.now() < deadline) {
      await engine.run({ signature: SIGNATURE, inputs });
      requests++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, client));
  await engine.dispose();
  console.error(`profile: ${model.label} batch ${batchText}: ${(requests / Number(secondsText)).toFixed(0)} requests/s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
