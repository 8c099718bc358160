/**
 * Knobs of `npm run bench:server`, all from BENCH_SERVER_* environment variables so that a quick
 * run and a careful one use the same code:
 *
 *   BENCH_SERVER_SECONDS=5          measured seconds per load run
 *   BENCH_SERVER_WARMUP_SECONDS=1   unmeasured load before each run (same connections)
 *   BENCH_SERVER_ROUNDS=3           A B C ... rounds per comparison (medians are quoted)
 *   BENCH_SERVER_CONNECTIONS=64     concurrent connections / in-flight calls
 *   BENCH_SERVER_GRPC_CHANNELS=1    HTTP/2 connections the gRPC load generator spreads calls over
 *   BENCH_SERVER_SECTIONS=rest,grpc,cnn,hotload   (resnet: the native engine with batching on ResNet50 vs TF)
 *   BENCH_SERVER_PYTHON=0           skip the Python baselines (Flask, grpcio)
 *   BENCH_SERVER_HOTLOAD_TRIALS=3
 *   BENCH_SERVER_PROFILE=1          also profile tfmodel-server (--cpu-prof) under REST and gRPC load
 */
export type Section = 'rest' | 'grpc' | 'cnn' | 'hotload' | 'resnet';

const ALL_SECTIONS: readonly Section[] = ['rest', 'grpc', 'cnn', 'hotload', 'resnet'];
/** The sections run without BENCH_SERVER_SECTIONS (resnet needs the native engine: ask for it). */
const DEFAULT_SECTIONS: readonly Section[] = ['rest', 'grpc', 'cnn', 'hotload'];

export interface ServerBenchConfig {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  readonly grpcChannels: number;
  readonly sections: ReadonlySet<Section>;
  readonly python: boolean;
  readonly hotLoadTrials: number;
  readonly profile: boolean;
}

function numberFromEnv(name: string, fallback: number, min: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name}=${text}: expected a number >= ${min}`);
  return value;
}

function flagFromEnv(name: string, fallback: boolean): boolean {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(text.toLowerCase());
}

function sectionsFromEnv(): Set<Section> {
  const text = process.env['BENCH_SERVER_SECTIONS'];
  if (!text) return new Set(DEFAULT_SECTIONS);
  const chosen = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of chosen) {
    if (!ALL_SECTIONS.includes(name as Section)) throw new Error(`BENCH_SERVER_SECTIONS: unknown section "${name}" (known: ${ALL_SECTIONS.join(', ')})`);
  }
  return new Set(chosen as Section[]);
}

export function readConfig(): ServerBenchConfig {
  return {
    seconds: numberFromEnv('BENCH_SERVER_SECONDS', 5, 1),
    warmupSeconds: numberFromEnv('BENCH_SERVER_WARMUP_SECONDS', 1, 0),
    rounds: Math.round(numberFromEnv('BENCH_SERVER_ROUNDS', 3, 1)),
    connections: Math.round(numberFromEnv('BENCH_SERVER_CONNECTIONS', 64, 1)),
    grpcChannels: Math.round(numberFromEnv('BENCH_SERVER_GRPC_CHANNELS', 1, 1)),
    sections: sectionsFromEnv(),
    python: flagFromEnv('BENCH_SERVER_PYTHON', true),
    hotLoadTrials: Math.round(numberFromEnv('BENCH_SERVER_HOTLOAD_TRIALS', 3, 1)),
    profile: flagFromEnv('BENCH_SERVER_PROFILE', false),
  };
}
