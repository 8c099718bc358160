/**
 * Batch-1 latency of the in-thread wasm engine against TensorFlow with the CPU time each request
 * costs (process CPU time / requests). On a shared, loaded machine the wall-clock ratio mostly says
 * which process got more of the CPU; CPU-ms per request says how much work a request is. Rounds
 * alternate ours / TensorFlow so both see the same load.
 *
 *   npm run build && node dist/bench/runtime/cpu-latency.js [model keys, default resnet50] [seconds per round, default 15] [rounds, default 2]
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadSavedModel } from '../../src/server/runtime/index.js';
import { REPO_ROOT, SIGNATURE, benchModels, locatePythonVenv } from './models.js';
import { randomInputs } from './node-measure.js';

interface Round {
  readonly count: number;
  readonly p50: number;
  readonly cpuMsPerRequest: number;
}

async function measureOurs(dir: string, inputs: ReturnType<typeof randomInputs>, seconds: number): Promise<Round> {
  const engine = await loadSavedModel(dir, { runtime: 'wasm', threads: 0 });
  try {
    for (let i = 0; i < 3; i++) await engine.run({ signature: SIGNATURE, inputs });
    const samples: number[] = [];
    const cpu = process.cpuUsage();
    const deadline = performance.now() + seconds * 1000;
    while (performance.now() < deadline || samples.length < 5) {
      const start = performance.now();
      await engine.run({ signature: SIGNATURE, inputs });
      samples.push(performance.now() - start);
    }
    const used = process.cpuUsage(cpu);
    samples.sort((a, b) => a - b);
    return { count: samples.length, p50: samples[Math.floor(samples.length / 2)]!, cpuMsPerRequest: (used.user + used.system) / 1000 / samples.length };
  } finally {
    await engine.dispose();
  }
}

function measureTensorflow(python: string, dir: string, alias: string, shape: readonly number[], seconds: number): Round {
  const script = join(REPO_ROOT, 'bench', 'runtime', 'tf_cpu_latency.py');
  const out = execFileSync(python, [script, dir, alias, String(seconds), ...shape.map(String)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Round;
}

async function main(): Promise<void> {
  const [keys = 'resnet50', secondsText = '15', roundsText = '2'] = process.argv.slice(2);
  const seconds = Number(secondsText);
  const python = join(locatePythonVenv(), 'bin', 'python');
  const lines = ['| Model | round | load avg | ours p50 ms | TF p50 ms | p50 ratio | ours CPU-ms/request | TF CPU-ms/request | CPU ratio |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const model of benchModels(keys.split(','))) {
    const spec = model.inputs[0]!;
    const inputs = randomInputs(model, 1);
    for (let round = 1; round <= Number(roundsText); round++) {
      const load = loadavg()[0]!.toFixed(1);
      const ours = await measureOurs(model.dir, inputs, seconds);
      const tf = measureTensorflow(python, model.dir, spec.alias, spec.exampleShape, seconds);
      lines.push(`| ${model.label} | ${round} | ${load} | ${ours.p50.toFixed(1)} | ${tf.p50.toFixed(1)} | ${(ours.p50 / tf.p50).toFixed(2)}x | ` +
        `${ours.cpuMsPerRequest.toFixed(1)} | ${tf.cpuMsPerRequest.toFixed(1)} | ${(ours.cpuMsPerRequest / tf.cpuMsPerRequest).toFixed(2)}x |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
