/**
 * `npm run soak` (documented, not in CI; issue 7): steady mixed load on three models (half_plus_two
 * over REST and gRPC, the TF2 half_plus_two and int64_times_six over REST) with a new version of
 * half_plus_two hot-loaded every minute, for SOAK_MINUTES (default 30). Every answer is checked
 * against the known value; RSS is sampled every 10 s and its slope fitted. Markdown on stdout.
 * Knobs (env): SOAK_MINUTES (30), SOAK_CONCURRENCY (8), SOAK_HOT_LOAD_SECONDS (60).
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import { FuzzServer, grpcRaw } from '../../test/fuzz/campaigns.js';
import { httpCall } from '../../test/support/flood.js';
import { HALF_PLUS_TWO } from '../../test/support/test-models.js';

const MINUTES = Number(process.env['SOAK_MINUTES'] ?? 30);
const CONCURRENCY = Number(process.env['SOAK_CONCURRENCY'] ?? 8);
const HOT_LOAD_SECONDS = Number(process.env['SOAK_HOT_LOAD_SECONDS'] ?? 60);

interface Call {
  readonly name: string;
  run(server: FuzzServer): Promise<boolean>;
}

const rest = (name: string, path: string, body: string, answer: string): Call => ({
  name,
  run: async (server) => {
    const reply = await httpCall(server.rest, 'POST', path, body);
    return reply.status === 200 && reply.body === answer;
  },
});

const grpcBytes = Buffer.from(toBinary(PredictRequestSchema, create(PredictRequestSchema, {
  modelSpec: { name: 'half' },
  inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 3n }, { size: 1n }] }, floatVal: [1, 2, 5] } },
})));

const CALLS: Call[] = [
  rest('half REST', '/v1/models/half:predict', '{"instances": [1.0, 2.0, 5.0]}', '{"predictions":[2.5,3.0,4.5]}'),
  rest('tf2 REST', '/v1/models/tf2:predict', '{"instances": [1.0, 2.0, 5.0]}', '{"predictions":[2.5,3.0,4.5]}'),
  rest('int64 REST', '/v1/models/int64:predict', '{"instances": [1, 2, 5]}', '{"predictions":[6,12,30]}'),
  { name: 'half gRPC', run: async (server) => (await grpcRaw(server.channel, '/tensorflow.serving.PredictionService/Predict', grpcBytes)).code === 0 },
];

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const server = await FuzzServer.start({ media: false, polled: 1 });
  const started = Date.now();
  const end = started + MINUTES * 60_000;
  const counts = new Map(CALLS.map((c) => [c.name, { ok: 0, failed: 0 }]));
  const rss: Array<[number, number]> = [];
  let nextVersion = 124;
  let hotLoads = 0;
  const sampler = setInterval(() => rss.push([(Date.now() - started) / 60_000, server.rssMb()]), 10_000);
  const loader = setInterval(() => {
    cpSync(HALF_PLUS_TWO, join(server.halfBase, String(nextVersion++)), { recursive: true });
    hotLoads++;
  }, HOT_LOAD_SECONDS * 1000);
  rss.push([0, server.rssMb()]);
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, worker) => {
      let i = worker;
      while (Date.now() < end && server.alive) {
        const call = CALLS[i++ % CALLS.length]!;
        const ok = await call.run(server).catch(() => false);
        const count = counts.get(call.name)!;
        if (ok) count.ok++;
        else count.failed++;
      }
    }));
  } finally {
    clearInterval(sampler);
    clearInterval(loader);
    rss.push([(Date.now() - started) / 60_000, server.rssMb()]);
    await server.stop();
  }
  const total = [...counts.values()].reduce((s, c) => ({ ok: s.ok + c.ok, failed: s.failed + c.failed }), { ok: 0, failed: 0 });
  const lines = [
    `# Soak: ${MINUTES} min, ${CONCURRENCY} concurrent, a half_plus_two version hot-loaded every ${HOT_LOAD_SECONDS} s (${hotLoads} loads)`,
    '',
    '| call | answered right | errors or wrong |',
    '| --- | --- | --- |',
    ...[...counts].map(([name, c]) => `| ${name} | ${c.ok} | ${c.failed} |`),
    `| all | ${total.ok} | ${total.failed} |`,
    '',
    `RSS: ${rss[0]![1]} MB at start, ${rss[rss.length - 1]![1]} MB at the end, max ${Math.max(...rss.map(([, y]) => y))} MB; ` +
      `fitted slope ${slope(rss).toFixed(2)} MB/min over ${rss.length} samples (after the first minute: ${slope(rss.filter(([x]) => x >= 1)).toFixed(2)} MB/min).`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (total.failed > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(2);
});
