/**
 * The comparisons of `npm run bench:server`, one function per section of the report. Servers of
 * a section are started together (they idle while another is measured) and stopped at its end.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerBenchConfig } from './config.js';
import { type LoadResult, measureGrpc, measureRest, measureRestRaw } from './load.js';
import { HALF_PLUS_TWO_BASE, HALF_PLUS_TWO_VERSION_DIR, lastLineOfScript, progress } from './paths.js';
import { type ProfileResult, profileScenario } from './profile.js';
import { startFlask, startPythonGrpc } from './python-baselines.js';
import { type Contestant, type ContestantSummary, alternate } from './rounds.js';
import {
  type BatchingParameters, type ServerUnderTest, describeBatching, postOnce, startBareGrpc, startBareHttp, startTfmodelServer, stopAll,
  writeBatchingFile,
} from './targets.js';
import { CNN_BATCHING, TINY_MODEL_BATCHING } from './tuning.js';

export const HALF_PLUS_TWO = 'half_plus_two';
export const PREDICT_BODY = '{"instances": [[1.0]]}';
const CNN_MODEL = 'keras_cnn';

export interface ComparisonResult {
  readonly title: string;
  readonly contestants: readonly ContestantSummary[];
}

export interface ApiSectionsResult {
  readonly rest?: ComparisonResult;
  readonly grpc?: ComparisonResult;
  /** Flask against ours, both through rest-load.js (autocannon 8 mis-measures Werkzeug). */
  readonly python?: ComparisonResult;
  /** One autocannon run against Flask, for the record of why rest-load.js is used there. */
  readonly flaskUnderAutocannon?: LoadResult;
  readonly batching: string;
}

export interface CnnSectionResult extends ComparisonResult {
  readonly batching: string;
  readonly cnnDir: string;
}

const predictUrl = (server: ServerUnderTest, model: string): string => `${server.restBase}/v1/models/${model}:predict`;

function restContestant(key: string, note: string, server: ServerUnderTest, config: ServerBenchConfig, model = HALF_PLUS_TWO, body = PREDICT_BODY): Contestant {
  const spec = { url: predictUrl(server, model), body, connections: config.connections, seconds: config.seconds, warmupSeconds: config.warmupSeconds };
  return { key, label: server.label, note, measure: () => measureRest(server.process, spec) };
}

function rawClientContestant(key: string, note: string, server: ServerUnderTest, config: ServerBenchConfig): Contestant {
  const spec = { url: predictUrl(server, HALF_PLUS_TWO), body: PREDICT_BODY, connections: config.connections, seconds: config.seconds, warmupSeconds: config.warmupSeconds };
  return { key, label: server.label, note, measure: () => measureRestRaw(server.process, spec) };
}

function grpcContestant(key: string, note: string, server: ServerUnderTest, config: ServerBenchConfig, expect: number): Contestant {
  const spec = {
    address: server.grpcAddress!,
    modelName: HALF_PLUS_TWO,
    concurrency: config.connections,
    channels: config.grpcChannels,
    expect,
    seconds: config.seconds,
    warmupSeconds: config.warmupSeconds,
  };
  return { key, label: server.label, note, measure: () => measureGrpc(server.process, spec) };
}

function batchingFlags(dir: string, name: string, params: BatchingParameters): string[] {
  return ['--enable_batching', `--batching_parameters_file=${writeBatchingFile(dir, name, params)}`];
}

/** Checks one answer of each REST server before loading it (a fast wrong server would look great). */
async function checkRestAnswers(servers: readonly ServerUnderTest[], model: string, body: string, expected: RegExp): Promise<void> {
  for (const server of servers) {
    const text = await postOnce(predictUrl(server, model), body);
    if (!expected.test(text.replace(/\s+/g, ''))) throw new Error(`${server.label} answered ${text.slice(0, 200)}`);
  }
}

/** Sections 1-3: REST and gRPC predict on half_plus_two, with the ceilings and the Python baselines. */
export async function runApiSections(config: ServerBenchConfig, pythonVenv: string | undefined, workDir: string): Promise<ApiSectionsResult> {
  const batching = batchingFlags(workDir, 'half-plus-two-batching', TINY_MODEL_BATCHING);
  const ours = (label: string, flags: string[]): Promise<ServerUnderTest> =>
    startTfmodelServer({ label, modelName: HALF_PLUS_TWO, basePath: HALF_PLUS_TWO_BASE, flags });
  progress('starting servers for REST and gRPC');
  const started = await Promise.allSettled([
    startBareHttp(),
    startBareGrpc(),
    ours('tfmodel-server', []),
    ours('tfmodel-server --inference_threads=0', ['--inference_threads=0']),
    ours('tfmodel-server --enable_batching', batching),
    pythonVenv ? startFlask(pythonVenv, HALF_PLUS_TWO_VERSION_DIR) : Promise.resolve(undefined),
    pythonVenv ? startPythonGrpc(pythonVenv, HALF_PLUS_TWO_VERSION_DIR) : Promise.resolve(undefined),
  ]);
  const servers = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  try {
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
    const [bareHttp, bareGrpc, plain, inline, batched, flask, pythonGrpc] = servers as [
      ServerUnderTest, ServerUnderTest, ServerUnderTest, ServerUnderTest, ServerUnderTest, ServerUnderTest | undefined, ServerUnderTest | undefined,
    ];
    const restServers = [plain, inline, batched, ...(flask ? [flask] : [])];
    await checkRestAnswers(restServers, HALF_PLUS_TWO, PREDICT_BODY, /"predictions":\[\[2\.5\]\]/);

    const settings = describeBatching(TINY_MODEL_BATCHING);
    const restContestants: Contestant[] = [
      restContestant('bare', 'node:http, body read + JSON.parse, fixed answer', bareHttp, config),
      restContestant('default', 'default flags (inference workers: one per core)', plain, config),
      restContestant('threads0', 'inference on the main thread', inline, config),
      restContestant('batching', settings, batched, config),
    ];
    const rest = config.sections.has('rest') ? await alternate('REST', restContestants, config.rounds) : undefined;

    const grpcContestants: Contestant[] = [
      grpcContestant('bare', 'grpc-js, protobuf-es decode + echo', bareGrpc, config, 1.0),
      grpcContestant('default', 'default flags', plain, config, 2.5),
      grpcContestant('batching', settings, batched, config, 2.5),
      ...(pythonGrpc ? [grpcContestant('python-grpc', 'grpcio, ThreadPoolExecutor(10)', pythonGrpc, config, 2.5)] : []),
    ];
    const grpc = config.sections.has('grpc') ? await alternate('gRPC', grpcContestants, config.rounds) : undefined;

    const pythonContestants: Contestant[] = flask
      ? [
        rawClientContestant('flask', 'Werkzeug dev server as app.run() starts it (threaded, HTTP/1.0)', flask, config),
        rawClientContestant('default', 'default flags', plain, config),
        rawClientContestant('batching', settings, batched, config),
      ]
      : [];
    const python = pythonContestants.length > 0 && config.sections.has('rest') ? await alternate('Python', pythonContestants, config.rounds) : undefined;
    const flaskUnderAutocannon = python && flask ? await restContestant('flask', '', flask, config).measure() : undefined;
    return {
      ...(flaskUnderAutocannon ? { flaskUnderAutocannon } : {}),
      ...(python ? { python: { title: 'REST predict against Flask (rest-load.js raw-socket client)', contestants: python } } : {}),
      ...(rest ? { rest: { title: 'REST predict, half_plus_two', contestants: rest } } : {}),
      ...(grpc ? { grpc: { title: 'gRPC Predict, half_plus_two', contestants: grpc } } : {}),
      batching: settings,
    };
  } finally {
    await stopAll(servers);
  }
}

/** A 28x28x1 image with deterministic pixel values in [0, 1). */
export function cnnRequestBody(): string {
  const image = Array.from({ length: 28 }, (_, i) => Array.from({ length: 28 }, (_, j) => [((i * 28 + j) % 251) / 251]));
  return JSON.stringify({ instances: [image] });
}

/** A base path holding keras_cnn as version 1 (a copy: tfmodel-server refuses version dirs that resolve outside the base path). */
function cnnBasePath(): { cnnDir: string; base: string } {
  const cnnDir = join(lastLineOfScript('ensure-corpus.sh'), CNN_MODEL, 'model');
  const base = mkdtempSync(join(tmpdir(), 'tfmodel-bench-cnn-'));
  cpSync(cnnDir, join(base, '1'), { recursive: true });
  return { cnnDir, base };
}

/** Section 4: keras_cnn over REST, with and without batching. */
export async function runCnnSection(config: ServerBenchConfig, workDir: string): Promise<CnnSectionResult> {
  const { cnnDir, base } = cnnBasePath();
  const body = cnnRequestBody();
  const ours = (label: string, flags: string[]): Promise<ServerUnderTest> => startTfmodelServer({ label, modelName: CNN_MODEL, basePath: base, flags });
  progress('starting keras_cnn servers');
  const started = await Promise.allSettled([
    ours('tfmodel-server', []),
    ours('tfmodel-server --enable_batching', batchingFlags(workDir, 'cnn-batching', CNN_BATCHING)),
  ]);
  const servers = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  try {
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
    const [plain, batched] = servers as [ServerUnderTest, ServerUnderTest];
    await checkRestAnswers([plain, batched], CNN_MODEL, body, /"class_id":\d/);
    const settings = describeBatching(CNN_BATCHING);
    const contestants = [
      restContestant('default', 'default flags', plain, config, CNN_MODEL, body),
      restContestant('batching', settings, batched, config, CNN_MODEL, body),
    ];
    const summaries = await alternate('CNN', contestants, config.rounds);
    return { title: 'REST predict, keras_cnn [1,28,28,1] per request', contestants: summaries, batching: settings, cnnDir };
  } finally {
    await stopAll(servers);
    rmSync(base, { recursive: true, force: true });
  }
}

/** The optional CPU profiles: REST (default and batching) and gRPC (default). */
export async function runProfiles(config: ServerBenchConfig, workDir: string): Promise<ProfileResult[]> {
  const spec = (flags: string[]) => ({ label: 'tfmodel-server (profiled)', modelName: HALF_PLUS_TWO, basePath: HALF_PLUS_TWO_BASE, flags });
  const rest = (server: ServerUnderTest, onStart: () => void): Promise<LoadResult> =>
    measureRest(server.process, { url: predictUrl(server, HALF_PLUS_TWO), body: PREDICT_BODY, connections: config.connections, seconds: config.seconds, warmupSeconds: config.warmupSeconds }, onStart);
  const grpc = (server: ServerUnderTest, onStart: () => void): Promise<LoadResult> =>
    measureGrpc(server.process, {
      address: server.grpcAddress!, modelName: HALF_PLUS_TWO, concurrency: config.connections, channels: config.grpcChannels, expect: 2.5,
      seconds: config.seconds, warmupSeconds: config.warmupSeconds,
    }, onStart);
  const results: ProfileResult[] = [];
  progress('profiling REST, default flags');
  results.push(await profileScenario('REST, default flags', spec([]), rest));
  progress('profiling REST, --inference_threads=0');
  results.push(await profileScenario('REST, --inference_threads=0', spec(['--inference_threads=0']), rest));
  progress('profiling REST, batching');
  results.push(await profileScenario('REST, --enable_batching', spec(batchingFlags(workDir, 'profile-batching', TINY_MODEL_BATCHING)), rest));
  progress('profiling gRPC, default flags');
  results.push(await profileScenario('gRPC, default flags', spec([]), grpc));
  if (config.sections.has('cnn')) {
    const { base } = cnnBasePath();
    try {
      const body = cnnRequestBody();
      const cnnSpec = (flags: string[]) => ({ label: 'tfmodel-server (profiled)', modelName: CNN_MODEL, basePath: base, flags });
      const cnnRest = (server: ServerUnderTest, onStart: () => void): Promise<LoadResult> =>
        measureRest(server.process, { url: predictUrl(server, CNN_MODEL), body, connections: config.connections, seconds: config.seconds, warmupSeconds: config.warmupSeconds }, onStart);
      progress('profiling keras_cnn REST, default flags');
      results.push(await profileScenario('keras_cnn REST, default flags', cnnSpec([]), cnnRest));
      progress('profiling keras_cnn REST, batching');
      results.push(await profileScenario('keras_cnn REST, --enable_batching', cnnSpec(batchingFlags(workDir, 'profile-cnn-batching', CNN_BATCHING)), cnnRest));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }
  return results;
}
