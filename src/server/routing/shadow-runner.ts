/**
 * Runs shadow copies of sampled requests off the caller's path: a bounded queue (a copy that
 * finds it full is dropped and counted, never waited for), a fixed number of runs at once, each
 * on the shadow version acquired like any request (so an unload waits for it), each copy's
 * outputs compared with what its caller got. The copies queued for one shadow run as one batch
 * (shadow-batch.ts): per copy, a batch costs a fraction of a run. A copy waits up to the batch
 * timeout for others to join it (as TF Serving's batch_timeout_micros), unless the queue already
 * holds a full batch's rows: the runs are few and full instead of one per copy or two.
 */
import type { Context, Span } from '@opentelemetry/api';
import { toServingError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { ServingCore, ShadowCall } from '../core/types.js';
import type { ShadowObserver } from '../observability.js';
import { endShadowSpan, recordShadowDropped, startShadowSpan } from '../tracing/tracing.js';
import { type OutputComparison, compareOutputs } from './output-compare.js';
import { type CopyResult, runCopies, takeBatch } from './shadow-batch.js';

export interface ShadowRunnerOptions {
  /** The manager (version-pinned acquires, never routed again). */
  readonly core: Pick<ServingCore, 'acquire'>;
  readonly observer: ShadowObserver;
  /** Copies waiting beyond the ones running (default 64). */
  readonly maxQueued?: number;
  /** Runs (batches of copies) at once (default 1). */
  readonly concurrency?: number;
  /** Rows one run may stack from queued copies (default 32; 1: one run per copy). */
  readonly maxBatchRows?: number;
  /** How long the oldest queued copy waits for others before its run starts, in ms (default 10; 0: next turn). */
  readonly batchTimeoutMs?: number;
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

/** Rows a copy adds to the queue's count (its inputs' dim 0; 1 when it has none). */
function rowsQueued(call: ShadowCall): number {
  const first = call.inputs.values().next().value;
  const rows = first?.shape[0];
  return rows !== undefined && rows > 0 ? rows : 1;
}

export class ShadowRunner {
  private readonly queue: Job[] = [];
  private running = 0;
  private readonly maxQueued: number;
  private readonly concurrency: number;
  private readonly maxBatchRows: number;
  private readonly batchTimeoutMs: number;
  /** Rows of the queued copies (rowsQueued), to start a run as soon as a full batch is waiting. */
  private queuedRows = 0;
  /** The pending start of the next run: after the batch timeout, or on the next turn. */
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private idle: Array<() => void> = [];

  constructor(private readonly options: ShadowRunnerOptions) {
    this.maxQueued = options.maxQueued ?? 64;
    this.concurrency = options.concurrency ?? 1;
    this.maxBatchRows = options.maxBatchRows ?? 32;
    this.batchTimeoutMs = options.batchTimeoutMs ?? 10;
  }

  submit(model: string, primary: bigint, shadow: bigint, call: ShadowCall, trace?: Context): void {
    if (this.queue.length >= this.maxQueued) {
      this.options.observer.shadow({ model, primary, shadow, outcome: 'dropped' });
      if (trace) recordShadowDropped(trace, { 'tfmodel.model': model, 'tfmodel.shadow.version': String(shadow) });
      return;
    }
    this.queue.push({ model, primary, shadow, call, trace, queuedAt: performance.now() });
    this.queuedRows += rowsQueued(call);
    this.schedule();
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  drained(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Starts the next run when a full batch's rows are queued or the queue is full (on the next
   * turn: never on the caller's stack, its answer goes out first), else when the oldest copy has
   * waited the batch timeout. Nothing while every run slot is busy: the end of a run schedules again.
   */
  private schedule(): void {
    if (this.running >= this.concurrency || this.queue.length === 0 || this.immediate !== undefined) return;
    const wait = this.batchTimeoutMs - (performance.now() - this.queue[0]!.queuedAt);
    // A full queue starts too: with --shadow_max_queued below a batch's rows, waiting would only drop.
    if (wait > 0 && this.queuedRows < this.maxBatchRows && this.queue.length < this.maxQueued) {
      this.timer ??= setTimeout(() => this.start(), wait);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.immediate = setImmediate(() => this.start());
  }

  /** Starts one run of the queued copies (a batch of one shadow), then schedules the next. */
  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.running < this.concurrency && this.queue.length > 0) {
      const batch = takeBatch(this.queue, this.maxBatchRows);
      for (const job of batch) this.queuedRows -= rowsQueued(job.call);
      this.running++;
      void this.run(batch).finally(() => {
        this.running--;
        this.schedule();
        if (this.running === 0 && this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
    this.schedule();
  }

  /** Runs a batch of copies of one shadow (one model, version and signature) and reports each. */
  private async run(jobs: readonly Job[]): Promise<void> {
    const { model, shadow, call } = jobs[0]!;
    const spans = jobs.map((job) => job.trace && startShadowSpan(job.trace, `shadow ${model}/versions/${shadow}`, {
      'tfmodel.model': model,
      'tfmodel.version': String(shadow),
      'tfmodel.shadow.primary_version': String(job.primary),
      'tfmodel.signature': call.signatureName,
      'tfmodel.shadow.queued_ms': performance.now() - job.queuedAt,
      'tfmodel.shadow.batch_copies': jobs.length,
    }));
    let results: readonly CopyResult[];
    try {
      const handle = this.options.core.acquire({ name: model, version: shadow });
      try {
        results = await runCopies(handle.engine, handle.signatures.find((s) => s.key === call.signatureName), jobs.map((job) => job.call));
      } finally {
        handle.release();
      }
    } catch (error) {
      results = jobs.map(() => ({ error }));
    }
    jobs.forEach((job, i) => this.report(job, spans[i], results[i]!));
  }

  private report(job: Job, span: Span | undefined, result: CopyResult): void {
    const { model, primary, shadow, call } = job;
    const outputs = 'outputs' in result ? result.outputs : undefined;
    let failure: string | undefined;
    if ('error' in result) {
      failure = toServingError(result.error).toString();
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
