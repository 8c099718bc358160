/**
 * `npm run bench:grpc-offload`: where --grpc_offload_bytes should sit. For Predict messages of
 * 1 KiB to 1 MiB (packed floats), the median time of decoding and converting one on the event loop
 * (what it holds the loop for) against a round trip through one worker thread (what the caller
 * waits), and the same for building and encoding the response. Below the threshold the inline
 * work is cheaper than the round trip and holds the loop briefly; above it the loop is held
 * longer than a round trip costs. Markdown on stdout. Knob: BENCH_OFFLOAD_REPEATS (40).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { PredictRequestSchema, PredictResponseSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import type { PredictResult } from '../../src/server/api/predict.js';
import { DataType } from '../../src/server/runtime/tensor/dtypes.js';
import type { HostTensor } from '../../src/server/runtime/tensor/host-tensor.js';
import { type ConvertedPredict, convertRequest } from '../../src/server/transports/grpc/big-requests.js';
import { predictResponse } from '../../src/server/transports/grpc/responses.js';
import { JsonWorkers } from '../../src/server/transports/rest/json-workers.js';

const REPEATS = Number(process.env['BENCH_OFFLOAD_REPEATS'] ?? 40);
const WARMUP = 5;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function timed(work: () => unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < REPEATS + WARMUP; i++) {
    const started = performance.now();
    await work();
    if (i >= WARMUP) samples.push(performance.now() - started);
  }
  return median(samples);
}

async function main(): Promise<void> {
  const workers = new JsonWorkers(1);
  const lines = [
    '| message | decode + convert inline ms | worker round trip ms | response build + encode inline ms | worker round trip ms |',
    '| --- | --- | --- | --- | --- |',
  ];
  try {
    for (const kib of [1, 4, 16, 64, 256, 1024]) {
      const floats = (kib * 1024) / 4;
      const request = create(PredictRequestSchema, {
        modelSpec: { name: 'm' },
        inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: BigInt(floats) }] }, floatVal: Array.from({ length: floats }, (_, i) => i / 3) } },
      });
      const bytes = Buffer.from(toBinary(PredictRequestSchema, request));
      const converted = convertRequest('predict', bytes) as ConvertedPredict;
      const result: PredictResult = { modelSpec: { name: 'm', version: 1n, signatureName: '' }, outputs: new Map(converted.inputs as ReadonlyMap<string, HostTensor>) };
      const decodeInline = await timed(() => convertRequest('predict', Buffer.from(bytes)));
      const decodePooled = await timed(() => workers.grpcRequest('predict', Buffer.from(bytes)));
      const encodeInline = await timed(() => toBinary(PredictResponseSchema, predictResponse(result, false)));
      const encodePooled = await timed(() => workers.grpcPredictResponse(result, false));
      const ms = (v: number): string => v.toFixed(2);
      lines.push(`| ${kib} KiB (${bytes.length} B) | ${ms(decodeInline)} | ${ms(decodePooled)} | ${ms(encodeInline)} | ${ms(encodePooled)} |`);
      process.stderr.write(`${kib} KiB done\n`);
    }
  } finally {
    await workers.close();
  }
  process.stdout.write(`${lines.join('\n')}\n\nMedians of ${REPEATS} (after ${WARMUP} warm-up runs); the copy of the request bytes each run makes is in both columns.\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
