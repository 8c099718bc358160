/**
 * Drives bench/runtime/tf_baseline.py (run with the project's TensorFlow venv): Python TensorFlow
 * (CPU) on the same SavedModels, as the reference our runtime is compared with. The process lives
 * for the whole run so that each model's TensorFlow figures are taken right after ours; it idles
 * (no CPU) while our runtime is measured, and requests are strictly one at a time.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BenchConfig } from './config.js';
import { type BenchModel, REPO_ROOT, SIGNATURE } from './models.js';
import type { ThroughputResult } from './node-measure.js';
import type { Summary } from './stats.js';

export interface TfModelResult {
  readonly loadMs: number;
  readonly latencyMs: Summary;
  readonly throughputSequential: ThroughputResult;
  /** Two Python threads calling the signature concurrently. */
  readonly throughputConcurrent: ThroughputResult;
  /** The better of the two. */
  readonly throughputBest: ThroughputResult;
}

export interface TfInfo {
  readonly tensorflowVersion: string;
  /** 0 means TensorFlow's default (one thread per core). */
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly cpuCount: number;
}

export interface TfLoadResult {
  readonly firstMs: number;
  readonly repeatMs: Summary;
}

type Reply<T> = T | { readonly error: string };

/**
 * The environment as the bench was started, before loading the native engine set its TensorFlow
 * defaults in process.env (TF_ENABLE_ONEDNN_OPTS=0): Python TensorFlow runs with its own defaults
 * (oneDNN on) unless the person running the bench set them.
 */
const ENV_AT_START: NodeJS.ProcessEnv = { ...process.env };

export class TfBaselineProcess {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    readonly info: TfInfo,
  ) {}

  /** Starts Python and waits until TensorFlow is imported (several seconds). */
  static async start(venv: string): Promise<TfBaselineProcess> {
    const script = join(REPO_ROOT, 'bench', 'runtime', 'tf_baseline.py');
    const child = spawn(join(venv, 'bin', 'python'), ['-u', script], { env: { ...ENV_AT_START, TF_CPP_MIN_LOG_LEVEL: '2' } });
    child.stderr.pipe(process.stderr);
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const info = await nextReply<TfInfo & { ready: true }>(lines, child);
    return new TfBaselineProcess(child, lines, info);
  }

  measureLoad(dir: string, loads: number): Promise<TfLoadResult> {
    return this.request<TfLoadResult>({ op: 'load', dir, loads });
  }

  measureModel(model: BenchModel, config: BenchConfig): Promise<TfModelResult> {
    const settings = {
      signature: SIGNATURE,
      batch: config.batch,
      warmupSeconds: config.warmupSeconds,
      latencySeconds: config.latencySeconds,
      minLatencySamples: config.minLatencySamples,
      throughputSeconds: config.throughputSeconds,
    };
    return this.request<TfModelResult>({ op: 'model', model: { key: model.key, dir: model.dir, inputs: model.inputs }, settings });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else {
        this.child.once('exit', () => resolve());
        this.child.stdin.end();
      }
    });
  }

  private request<T>(message: object): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    return nextReply<T>(this.lines, this.child);
  }
}

async function nextReply<T>(lines: AsyncIterator<string>, child: ChildProcessWithoutNullStreams): Promise<T> {
  const next = await lines.next();
  if (next.done) throw new Error(`tf_baseline.py ended without replying (exit code ${child.exitCode})`);
  const reply = JSON.parse(next.value as string) as Reply<T>;
  if (typeof reply === 'object' && reply !== null && 'error' in reply) throw new Error(`tf_baseline.py: ${reply.error}`);
  return reply as T;
}
