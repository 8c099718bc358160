/**
 * `npm run bench:routing-cost`: what a 10% canary and a 20% shadow add to a Predict, in CPU per
 * request of this whole process (process.cpuUsage: the event loop, libuv's threads where the
 * native engine runs, TensorFlow's pools), without HTTP, gRPC or a load generator. One server
 * (startModelServer, half_plus_two versions 123 and 124, label stable -> 123) is called through its
 * routed core with CONCURRENCY Predicts in flight; the routing config is swapped between rounds
 * on the same process (plain, canary only, shadow only, both), so every variant shares the
 * process, its JIT state and its heap. Rounds alternate and reverse; medians of CPU per request.
 * BENCH_VARIANTS picks variants by name; BENCH_ROUNDS (6), BENCH_CALLS (20000 per round) adjust it; BENCH_SHADOW_TIMEOUT_MICROS sets
 * --shadow_batch_timeout_micros. Figures go to stdout as a markdown table.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { predict } from '../../src/server/api/predict.js';
import { parseServerFlags } from '../../src/server/config/flags.js';
import { memoryLogger } from '../../src/server/logging.js';
import { startModelServer } from '../../src/server/model-server.js';
import { EMPTY_ROUTING, routingConfigFromJson } from '../../src/server/routing/routing-config.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { median } from '../server/stats.js';
import { REPO_ROOT } from '../server/paths.js';
import { freePort } from '../server/targets.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 6);
const CALLS = Number(process.env['BENCH_CALLS'] ?? 20_000);
const CONCURRENCY = 16;
const BASE = join(REPO_ROOT, 'test', 'models', 'half_plus_two_2_versions');

const label = (route: Record<string, unknown>) => routingConfigFromJson({ models: { half: { labels: { stable: route } } } });
const ALL_VARIANTS = [
  { key: 'plain', routing: EMPTY_ROUTING },
  { key: '10% canary', routing: label({ canaries: [{ version: 124, percent: 10 }] }) },
  { key: '20% shadow', routing: label({ canaries: [], shadow: { version: 124, percent: 20 } }) },
  { key: '10% canary + 20% shadow', routing: label({ canaries: [{ version: 124, percent: 10 }], shadow: { version: 124, percent: 20 } }) },
];
/** BENCH_VARIANTS=plain,shadow (key prefixes) runs only those, e.g. for a --cpu-prof of each. */
const VARIANTS = ALL_VARIANTS.filter((v) => !process.env['BENCH_VARIANTS'] || process.env['BENCH_VARIANTS'].split(',').some((p) => v.key.includes(p)));

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tfmodel-bench-routing-cost-'));
  const load = loadavg();
  const config = join(work, 'models.config');
  writeFileSync(config, `model_config_list { config { name: "half" base_path: "${BASE}" model_platform: "tensorflow" model_version_policy { all {} } version_labels { key: "stable" value: 123 } } }`);
  const timeout = process.env['BENCH_SHADOW_TIMEOUT_MICROS'];
  const parsed = parseServerFlags(['--bind_address=127.0.0.1', `--port=${await freePort()}`, '--rest_api_port=0', `--model_config_file=${config}`, ...(timeout ? [`--shadow_batch_timeout_micros=${timeout}`] : [])]);
  if (parsed.kind !== 'serve') throw new Error('flags');
  const server = await startModelServer(parsed.flags, memoryLogger());
  const request = {
    modelSpec: { name: 'half', label: 'stable' },
    inputs: new Map([['x', { dtype: DataType.DT_FLOAT, shape: [1], data: Float32Array.of(1) }]]),
  };
  async function calls(count: number): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next++ < count) await predict(server.core, request);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  }
  const results = new Map<string, number[]>(VARIANTS.map((v) => [v.key, []]));
  try {
    for (const variant of VARIANTS) {
      server.core.setRouting(variant.routing);
      await calls(CALLS / 4);
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        server.core.setRouting(variant.routing);
        await calls(CALLS / 10); // settle: JIT, shadow queue of the previous variant
        const before = process.cpuUsage();
        await calls(CALLS);
        const used = process.cpuUsage(before);
        results.get(variant.key)!.push((used.user + used.system) / CALLS);
      }
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const plain = median(results.get('plain') ?? [Number.NaN]);
  console.log(`# Routing and shadow cost in-process (${new Date().toISOString()}, load average before ${load.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
  console.log(`half_plus_two Predict through label stable, ${CONCURRENCY} in flight, ${ROUNDS} rounds of ${CALLS} calls; process CPU µs per request, median (rounds).\n`);
  console.log('| variant | CPU µs/request | added | plain / variant | rounds |\n|---|---:|---:|---:|---|');
  for (const [key, values] of results) {
    const m = median(values);
    console.log(`| ${key} | ${m.toFixed(1)} | ${(m - plain).toFixed(1)} | ${(plain / m).toFixed(2)}x | ${values.map((v) => v.toFixed(1)).join(' ')} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
