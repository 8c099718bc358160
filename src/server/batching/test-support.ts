/** Fakes shared by the batching tests: an inner engine that records the batches it runs. */
import type { ModelEngine, RunRequest } from '../runtime/engine.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';

export interface RecordingEngine extends ModelEngine {
  /** Every request the engine ran, in order. */
  readonly seen: RunRequest[];
  /** Runs started and not finished. */
  active: number;
  /** Most runs active at once. */
  maxActive: number;
  /** While set, runs wait for it. */
  gate: Promise<void> | undefined;
  disposed: boolean;
}

export const floats = (shape: number[], values: number[]): HostTensor => ({ dtype: DataType.DT_FLOAT, shape, data: Float32Array.from(values) });

/**
 * Answers every input `x` (any shape) with `y = 2x + 1` (same shape) and `n` = [rows] with each
 * row's index in the batch, so tests can see which rows ran together; `fail` makes runs throw.
 */
export function recordingEngine(options: { stateful?: boolean; fail?: Error; scalarOutput?: boolean } = {}): RecordingEngine {
  const engine: RecordingEngine = {
    backend: 'cpu',
    signatures: [],
    stateful: options.stateful ?? false,
    seen: [],
    active: 0,
    maxActive: 0,
    gate: undefined,
    disposed: false,
    async run(request) {
      engine.seen.push(request);
      engine.active++;
      engine.maxActive = Math.max(engine.maxActive, engine.active);
      try {
        await Promise.resolve();
        if (engine.gate) await engine.gate;
        if (options.fail) throw options.fail;
        const x = request.inputs.get('x')!;
        const rows = x.shape[0] ?? 1;
        const outputs = new Map<string, HostTensor>([
          ['y', { dtype: x.dtype, shape: x.shape, data: Float32Array.from(x.data as Float32Array, (v) => 2 * v + 1) }],
          ['n', options.scalarOutput ? floats([], [rows]) : floats([rows], Array.from({ length: rows }, (_, i) => i))],
        ]);
        const filter = request.outputFilter;
        return filter && filter.length > 0 ? new Map(filter.map((alias) => [alias, outputs.get(alias)!])) : outputs;
      } finally {
        engine.active--;
      }
    },
    async dispose() {
      engine.disposed = true;
    },
  };
  return engine;
}

/** A promise and its resolver, to hold the fake engine's runs. */
export function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets queued microtasks and timers of 0 ms run. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
