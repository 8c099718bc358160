/**
 * The `resnet` section of `npm run bench:server`: tfmodel-server on the native engine with
 * batching, 64 concurrent gRPC Predict calls of one ResNet50 128x128 image each, against Python
 * TensorFlow's in-process batch throughput on the same SavedModel (bench/runtime's baseline: one
 * batch of BENCH_BATCH images per call), measured in the same run. Images per second on both sides.
 */
import { writeFileSync } from 'node:fs';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { DataType } from '../../src/gen/tensorflow/core/framework/types_pb.js';
import { PredictRequestSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { SessionEngine } from '../../src/server/runtime/native/session-engine.js';
import { readConfig as readRuntimeConfig } from '../runtime/config.js';
import { benchModels, locatePythonVenv } from '../runtime/models.js';
import { TfBaselineProcess } from '../runtime/python-baseline.js';
import type { ServerBenchConfig } from './config.js';
import { type LoadResult, measureGrpc } from './load.js';
import { progress } from './paths.js';
import { type BatchingParameters, startTfmodelServer, writeBatchingFile } from './targets.js';

/** Batches of up to 32 (TensorFlow's batch), cut after 20 ms; two batch threads keep the session busy. */
export const RESNET_BATCHING: BatchingParameters = {
  maxBatchSize: 32,
  batchTimeoutMicros: 20_000,
  numBatchThreads: 2,
  maxEnqueuedBatches: 1000,
};

export interface NativeResnetResult {
  readonly model: string;
  readonly concurrency: number;
  readonly batching: BatchingParameters;
  readonly ours: LoadResult;
  readonly tensorflowBatch: number;
  readonly tensorflowImagesPerSecond: number;
  readonly ratio: number;
}

export async function runNativeResnetSection(config: ServerBenchConfig, workDir: string): Promise<NativeResnetResult> {
  const [model] = benchModels(['resnet50']);
  const input = model!.inputs[0]!;
  const base = join(workDir, 'resnet50');
  mkdirSync(base, { recursive: true });
  // A real directory: the server's version scan takes directories, not links to them.
  cpSync(model!.dir, join(base, '1'), { recursive: true, dereference: true });
  const shape = [1, ...input.exampleShape];
  const pixels = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 7919) % 255) / 127.5 - 1);
  const request = create(PredictRequestSchema, {
    modelSpec: { name: 'resnet50', signatureName: 'serving_default' },
    inputs: { [input.alias]: { dtype: DataType.DT_FLOAT, tensorShape: { dim: shape.map((d) => ({ size: BigInt(d) })) }, tensorContent: new Uint8Array(pixels.buffer) } },
  });
  const requestFile = join(workDir, 'resnet50-request.bin');
  writeFileSync(requestFile, toBinary(PredictRequestSchema, request));

  // The answer every call is checked against: the first output value on this image, from our engine
  // (the corpus and shared-model tests prove it equals TensorFlow's).
  const engine = await SessionEngine.load(model!.dir);
  const answer = await engine.run({ signature: 'serving_default', inputs: new Map([[input.alias, { dtype: DataType.DT_FLOAT, shape, data: pixels }]]) });
  const expect = ([...answer.values()][0]!.data as Float32Array)[0]!;
  await engine.dispose();

  progress('resnet50: tfmodel-server --runtime=tensorflow --enable_batching, gRPC');
  const batchingFile = writeBatchingFile(workDir, 'resnet-batching', RESNET_BATCHING);
  const server = await startTfmodelServer({
    label: 'tfmodel-server native+batching',
    modelName: 'resnet50',
    basePath: base,
    flags: ['--runtime=tensorflow', '--enable_batching', `--batching_parameters_file=${batchingFile}`],
  });
  let ours: LoadResult;
  try {
    ours = await measureGrpc(server.process, {
      address: server.grpcAddress!, modelName: 'resnet50', concurrency: config.connections, channels: config.grpcChannels,
      expect, requestFile, seconds: Math.max(config.seconds, 10), warmupSeconds: Math.max(config.warmupSeconds, 3),
    });
  } finally {
    await server.process.stop();
  }

  progress('resnet50: Python TensorFlow in-process, batch throughput');
  const runtimeConfig = readRuntimeConfig();
  const tf = await TfBaselineProcess.start(locatePythonVenv());
  let tensorflowImagesPerSecond: number;
  try {
    tensorflowImagesPerSecond = (await tf.measureModel(model!, runtimeConfig)).throughputBest.examplesPerSecond;
  } finally {
    await tf.close();
  }
  return {
    model: `ResNet50 ${input.exampleShape.join('x')}`,
    concurrency: config.connections,
    batching: RESNET_BATCHING,
    ours,
    tensorflowBatch: runtimeConfig.batch,
    tensorflowImagesPerSecond,
    ratio: ours.rps / tensorflowImagesPerSecond,
  };
}

export function renderNativeResnet(r: NativeResnetResult): string {
  const b = r.batching;
  return [
    `## ${r.model}: tfmodel-server (native engine, batching, gRPC) vs TensorFlow in-process batches`,
    '',
    `${r.concurrency} concurrent gRPC Predict calls of one image each; batching max_batch_size ${b.maxBatchSize}, ` +
      `batch_timeout_micros ${b.batchTimeoutMicros}, num_batch_threads ${b.numBatchThreads}. TensorFlow: batches of ${r.tensorflowBatch} ` +
      'through the signature in-process (best of 1 and 2 concurrent callers).',
    '',
    '| | images/s | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| tfmodel-server native+batching | ${r.ours.rps.toFixed(1)} | ${r.ours.p50Ms.toFixed(1)} | ${r.ours.p99Ms.toFixed(1)} | ${r.ours.errors}${r.ours.firstError ? ` (${r.ours.firstError})` : ''} |`,
    `| Python TensorFlow, batch ${r.tensorflowBatch} | ${r.tensorflowImagesPerSecond.toFixed(1)} | | | |`,
    '',
    `Ratio (ours / TensorFlow): **${r.ratio.toFixed(2)}x** (target >= 0.9x).`,
    '',
  ].join('\n');
}
