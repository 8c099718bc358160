/**
 * Runs shadow copies of sampled requests off the caller's path: a bounded queue (a copy that
 * finds it full is dropped and counted, never waited for), a fixed number of copies running at
 * once, each on the shadow version acquired like any request (so an unload waits for it), its
 * outputs compared with what the caller got.
 */
import { toServingError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { ServingCore, ShadowCall } from '../core/types.js';
import type { ShadowObserver } from '../observability.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { compareOutputs } from './output-compare.js';

export interface ShadowRunnerOptions {
  /** The manager (version-pinned acquires, never routed again). */
  readonly core: Pick<ServingCore, 'acquire'>;
  readonly observer: ShadowObserver;
  /** Copies waiting beyond the ones running (default 64). */
  readonly maxQueued?: number;
  /** Copies running at once (default 1). */
  readonly concurrency?: number;
  readonly log?: Logger;
}

interface Job {
  readonly model: string;
  readonly primary: bigint;
  readonly shadow: bigint;
  readonly call: ShadowCall;
}

export class ShadowRunner {
  private readonly queue: Job[] = [];
  private running = 0;
  private readonly maxQueued: number;
  private readonly concurrency: number;
  private idle: Array<() => void> = [];

  constructor(private readonly options: ShadowRunnerOptions) {
    this.maxQueued = options.maxQueued ?? 64;
    this.concurrency = options.concurrency ?? 1;
  }

  submit(model: string, primary: bigint, shadow: bigint, call: ShadowCall): void {
    if (this.queue.length >= this.maxQueued) {
      this.options.observer.shadow({ model, primary, shadow, outcome: 'dropped' });
      return;
    }
    this.queue.push({ model, primary, shadow, call });
    // Never on the caller's stack: the caller's answer goes out first.
    if (this.running < this.concurrency) setImmediate(() => this.pump());
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  drained(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      void this.run(job).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    const { model, primary, shadow, call } = job;
    let outputs: Map<string, HostTensor> | undefined;
    let failed = false;
    try {
      const handle = this.options.core.acquire({ name: model, version: shadow });
      try {
        outputs = await handle.engine.run({ signature: call.signatureName, inputs: call.inputs, outputFilter: call.outputFilter });
      } finally {
        handle.release();
      }
    } catch (error) {
      failed = true;
      this.options.log?.warn('shadow_failed', { model, primary, shadow, error: toServingError(error).toString() });
    }
    try {
      this.options.observer.shadow({
        model,
        primary,
        shadow,
        outcome: 'run',
        primaryFailed: call.error !== undefined,
        shadowFailed: failed,
        ...(outputs && call.outputs ? { comparisons: compareOutputs(call.outputs, outputs) } : {}),
      });
    } catch (error) {
      this.options.log?.error('shadow_report_failed', { model, error: String(error) });
    }
  }
}
