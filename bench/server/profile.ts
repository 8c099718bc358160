/**
 * Where tfmodel-server's CPU goes per request: the server runs under `node --cpu-prof` while one
 * load run is measured; samples outside the measured window (start-up, model load, warm-up) are
 * dropped using the profile's timestamps (CLOCK_MONOTONIC, the same clock as process.hrtime), and
 * the rest is split by layer for the main thread and for the worker threads, in microseconds per
 * request.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './load.js';
import type { ManagedProcess } from './launcher.js';
import { type ServerUnderTest, type TfmodelServerSpec, startTfmodelServer } from './targets.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: CallFrame }>;
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface LayerShare {
  readonly layer: string;
  readonly microsPerRequest: number;
}

export interface ThreadProfile {
  readonly thread: 'main' | 'workers';
  readonly busyMicrosPerRequest: number;
  readonly layers: readonly LayerShare[];
  readonly topFunctions: ReadonlyArray<{ readonly name: string; readonly layer: string; readonly microsPerRequest: number }>;
}

export interface ProfileResult {
  readonly scenario: string;
  readonly load: LoadResult;
  readonly threads: readonly ThreadProfile[];
}

/** Which part of the stack a frame belongs to, from its script URL. */
export function layerOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url.startsWith('wasm://') || /^(wasm-function|\$)/.test(functionName)) return 'wasm kernels';
  if (url.includes('@grpc/grpc-js')) return 'grpc-js';
  if (url.includes('@bufbuild/protobuf')) return 'protobuf-es';
  if (url.includes('@tensorflow/')) return 'tfjs';
  if (url.includes('/dist/src/server/transports/rest/')) return 'ours: REST transport';
  if (url.includes('/dist/src/server/transports/grpc/')) return 'ours: gRPC transport';
  if (url.includes('/dist/src/server/batching/')) return 'ours: batching';
  if (url.includes('/dist/src/server/runtime/')) return 'ours: runtime';
  if (url.includes('/dist/src/')) return 'ours: core, metrics, logging';
  if (/^node:(_http|http|net|stream|internal\/(http|streams|stream_base|net))/.test(url) || /node:internal\/(http|streams)/.test(url)) return 'Node http/net/streams';
  if (url.startsWith('node:internal/worker') || url.includes('worker_threads') || url.includes('internal/per_context/messageport')) return 'Node worker messaging';
  if (url.startsWith('node:')) return 'Node internals (other)';
  if (url === '') return 'V8 builtins (JSON, strings, ...)';
  return 'other';
}

function samplesInWindow(profile: CpuProfile, fromMicros: number, toMicros: number): Array<{ frame: CallFrame; micros: number }> {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const out: Array<{ frame: CallFrame; micros: number }> = [];
  let time = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    time += delta;
    if (time >= fromMicros && time <= toMicros) out.push({ frame: frames.get(id)!, micros: delta });
  });
  return out;
}

function threadProfile(thread: 'main' | 'workers', samples: ReadonlyArray<{ frame: CallFrame; micros: number }>, requests: number): ThreadProfile {
  const byLayer = new Map<string, number>();
  const byFunction = new Map<string, { layer: string; micros: number }>();
  let busy = 0;
  for (const { frame, micros } of samples) {
    const layer = layerOf(frame);
    if (layer === 'idle') continue;
    busy += micros;
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + micros);
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^file:\/\/.*?node_modules\//, '').replace(/^file:\/\/.*?\/dist\//, 'dist/')}:${frame.lineNumber + 1}`;
    const entry = byFunction.get(name) ?? { layer, micros: 0 };
    entry.micros += micros;
    byFunction.set(name, entry);
  }
  const perRequest = (micros: number): number => micros / Math.max(1, requests);
  return {
    thread,
    busyMicrosPerRequest: perRequest(busy),
    layers: [...byLayer].sort((a, b) => b[1] - a[1]).map(([layer, micros]) => ({ layer, microsPerRequest: perRequest(micros) })),
    topFunctions: [...byFunction].sort((a, b) => b[1].micros - a[1].micros).slice(0, 12)
      .map(([name, e]) => ({ name, layer: e.layer, microsPerRequest: perRequest(e.micros) })),
  };
}

/** Thread id from V8's file name CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile (0 = main). */
function threadIdOf(file: string): number {
  const parts = file.split('.');
  return Number(parts[parts.length - 3]);
}

const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Starts tfmodel-server per `spec` under --cpu-prof, runs `measure` once (its own warm-up
 * included), stops the server and summarises the samples of the measured window.
 */
export async function profileScenario(
  scenario: string,
  spec: TfmodelServerSpec,
  measure: (server: ServerUnderTest, onMeasuredStart: () => void) => Promise<LoadResult>,
): Promise<ProfileResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tfmodel-bench-prof-'));
  let server: ServerUnderTest | undefined;
  try {
    server = await startTfmodelServer({ ...spec, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    let from = 0;
    const load = await measure(server, () => (from = monotonicMicros()));
    const to = monotonicMicros();
    await stopAndWait(server.process);
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    const main: Array<{ frame: CallFrame; micros: number }> = [];
    const workers: Array<{ frame: CallFrame; micros: number }> = [];
    for (const file of files) {
      const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
      (threadIdOf(file) === 0 ? main : workers).push(...samplesInWindow(profile, from, to));
    }
    const threads = [threadProfile('main', main, load.requests)];
    if (workers.length > 0) threads.push(threadProfile('workers', workers, load.requests));
    return { scenario, load, threads };
  } finally {
    if (server) await server.process.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function stopAndWait(process_: ManagedProcess): Promise<void> {
  const code = await process_.stop(30_000);
  if (code !== 0) throw new Error(`${process_.label} exited with ${code}: no profile written`);
}
