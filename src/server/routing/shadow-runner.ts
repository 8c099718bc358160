/**
 * Runs shadow copies of sampled requests off the caller's path: a bounded queue (a copy that
 * finds it full is dropped and counted, never waited for), a fixed number of copies running at
 * once, each on the shadow version acquired like any request (so an unload waits for it), its
 * outputs compared with what the caller got.
 */
import type { Context } from '@opentelemetry/api';
import { toServingError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { ServingCore, ShadowCall } from '../core/types.js';
import type { ShadowObserver } from '../observability.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { endShadowSpan, recordShadowDropped, startShadowSpan } from '../tracing/tracing.js';
import { type OutputComparison, compareOutputs } from './output-compare.js';

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
  /** The request's trace context, when it was traced. */
  readonly trace: Context | undefined;
  /** When it was queued (performance.now()). */
  readonly queuedAt: number;
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

  submit(model: string, primary: bigint, shadow: bigint, call: ShadowCall, trace?: Context): void {
    if (this.queue.length >= this.maxQueued) {
      this.options.observer.shadow({ model, primary, shadow, outcome: 'dropped' });
      if (trace) recordShadowDropped(trace, { 'tfmodel.model': model, 'tfmodel.shadow.version': String(shadow) });
      return;
    }
    this.queue.push({ model, primary, shadow, call, trace, queuedAt: performance.now() });
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
    const span = job.trace && startShadowSpan(job.trace, `shadow ${model}/versions/${shadow}`, {
      'tfmodel.model': model,
      'tfmodel.version': String(shadow),
      'tfmodel.shadow.primary_version': String(primary),
      'tfmodel.signature': call.signatureName,
      'tfmodel.shadow.queued_ms': performance.now() - job.queuedAt,
    });
    let outputs: Map<string, HostTensor> | undefined;
    let failure: string | undefined;
    try {
      const handle = this.options.core.acquire({ name: model, version: shadow });
      try {
        outputs = await handle.engine.run({ signature: call.signatureName, inputs: call.inputs, outputFilter: call.outputFilter });
      } finally {
        handle.release();
      }
    } catch (error) {
      failure = toServingError(error).toString();
      this.options.log?.warn('shadow_failed', { model, primary, shadow, error: failure });
    }
    try {
      const comparisons = outputs && call.outputs ? compareOutputs(call.outputs, outputs) : undefined;
      if (span) endShadowSpan(span, failure, spanComparison(call, comparisons));
      this.options.observer.shadow({
        model,
        primary,
        shadow,
        outcome: 'run',
        primaryFailed: call.error !== undefined,
        shadowFailed: failure !== undefined,
        ...(comparisons ? { comparisons } : {}),
      });
    } catch (error) {
      span?.end();
      this.options.log?.error('shadow_report_failed', { model, error: String(error) });
    }
  }
}

/** What a shadow span records of the comparison: the largest differences over the outputs. */
function spanComparison(call: ShadowCall, comparisons: readonly OutputComparison[] | undefined): Record<string, string | number> {
  const attributes: Record<string, string | number> = {};
  if (call.error !== undefined) attributes['tfmodel.shadow.primary_error'] = call.error.toString();
  if (comparisons === undefined) return attributes;
  // Infinity (a mismatch) is not an OpenTelemetry number attribute value everywhere: say it.
  const max = (values: number[]): number | string => {
    const m = Math.max(0, ...values);
    return Number.isFinite(m) ? m : 'Infinity';
  };
  attributes['tfmodel.shadow.max_abs_diff'] = max(comparisons.map((c) => c.maxAbsDiff));
  attributes['tfmodel.shadow.max_rel_diff'] = max(comparisons.map((c) => c.maxRelDiff));
  return attributes;
}
