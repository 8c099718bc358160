/**
 * Server-side batching (--enable_batching): a ModelEngine that merges concurrent requests into
 * batches along dim 0, runs each batch once on the wrapped engine, and splits the results back,
 * like TF Serving's BatchingSession on a SharedBatchScheduler.
 *
 * Requests share a queue when they run the same signature with the same output filter and the
 * same input aliases, dtypes and dims beyond 0 (only the rank, with pad_variable_length_inputs).
 * TF Serving keys its queues on tensor names only and fails a whole batch whose shapes differ;
 * keying on shapes keeps one odd request from failing its neighbours.
 */
import { Code, ServingError, toServingError } from '../errors.js';
import type { Context } from '@opentelemetry/api';
import { captureTraceContext, recordWaitSpan } from '../tracing/tracing.js';
import type { ServingObserver } from '../observability.js';
import type { ModelEngine, RunRequest } from '../runtime/engine.js';
import type { TensorMap } from '../runtime/signature-io.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import type { BatchQueue, QueueOptions } from './batch-queue.js';
import { type MergeOptions, mergeInputs, splitOutputs, taskSize } from './batch-tensors.js';
import type { SharedBatchScheduler } from './shared-batch-scheduler.js';

/** TF Serving's batching_session histograms beyond queuing latency (metrics/ implements them). */
export interface BatchStatsObserver {
  /** /tensorflow/serving/batching_session/input_batch_size: dim 0 of each input of each request. */
  inputBatchSize(size: number): void;
  /** .../processed_batch_size: rows of a batch as run, padding included. */
  processedBatchSize(size: number): void;
  /** .../padding_size{execution_batch_size}: rows added to reach an allowed batch size. */
  paddingSize(padding: number, executionBatchSize: number): void;
  /** .../wrapped_run_count: runs of the wrapped engine. */
  wrappedRun(): void;
}

/** What batching reports: queuing latency always, the batch statistics when implemented. */
export type BatchingObserver = Pick<ServingObserver, 'batchQueuing'> & Partial<BatchStatsObserver>;

export type BatchingEngineOptions = QueueOptions & MergeOptions;

interface BatchTask {
  readonly size: number;
  readonly inputs: TensorMap;
  readonly enqueueMicros: number;
  /** The request's trace context when it is traced (for the queue wait span). */
  readonly trace?: Context | undefined;
  resolve(outputs: Map<string, HostTensor>): void;
  reject(error: unknown): void;
}

/** What every request of a queue has in common. */
interface QueueShape {
  readonly signature: string;
  readonly outputFilter: readonly string[] | undefined;
  readonly aliases: readonly string[];
}

export class BatchingEngine implements ModelEngine {
  private readonly queues = new Map<string, BatchQueue<BatchTask>>();
  private closed = false;

  constructor(
    private readonly inner: ModelEngine,
    private readonly scheduler: SharedBatchScheduler,
    private readonly options: BatchingEngineOptions,
    private readonly observer: BatchingObserver,
  ) {}

  get backend(): ModelEngine['backend'] {
    return this.inner.backend;
  }

  get signatures(): ModelEngine['signatures'] {
    return this.inner.signatures;
  }

  get stateful(): boolean {
    return this.inner.stateful;
  }

  get inputChecks(): ModelEngine['inputChecks'] {
    return this.inner.inputChecks;
  }

  health(): ReturnType<NonNullable<ModelEngine['health']>> {
    return this.inner.health?.();
  }

  run(request: RunRequest): Promise<Map<string, HostTensor>> {
    // Every request of a stateful model must see the effects of the previous one, in order.
    if (this.inner.stateful) return this.inner.run(request);
    return new Promise((resolve, reject) => {
      const size = taskSize(request.inputs);
      // Nothing to merge; TF would pad an empty batch with rows that do not exist.
      if (size === 0) {
        this.inner.run(request).then(resolve, reject);
        return;
      }
      for (const tensor of request.inputs.values()) this.observer.inputBatchSize?.(tensor.shape[0]!);
      this.enqueue({ size, inputs: request.inputs, enqueueMicros: this.scheduler.now(), trace: captureTraceContext(), resolve, reject }, request);
    });
  }

  /** Lets queued requests finish, then disposes the wrapped engine. */
  async dispose(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    await this.inner.dispose();
  }

  private enqueue(task: BatchTask, request: RunRequest): void {
    if (this.closed) throw new ServingError(Code.UNAVAILABLE, 'The batching engine is closed: the servable is unloading');
    const shape = queueShapeOf(request);
    const key = queueKey(shape, request.inputs, this.options.padVariableLengthInputs);
    const queue = this.queues.get(key) ?? this.createQueue(key, shape);
    try {
      queue.schedule(task);
    } catch (error) {
      if (queue.isEmpty()) this.dropQueue(key, queue);
      throw error;
    }
  }

  private createQueue(key: string, shape: QueueShape): BatchQueue<BatchTask> {
    const queue: BatchQueue<BatchTask> = this.scheduler.addQueue<BatchTask>(this.options, {
      process: (tasks) => this.processBatch(shape, tasks),
      // Queues are keyed by request shape: drop idle ones so varied shapes do not accumulate.
      idle: () => this.dropQueue(key, queue),
    });
    this.queues.set(key, queue);
    return queue;
  }

  private dropQueue(key: string, queue: BatchQueue<BatchTask>): void {
    if (this.queues.get(key) !== queue) return;
    this.queues.delete(key);
    this.scheduler.removeQueue(queue);
  }

  private async processBatch(shape: QueueShape, tasks: BatchTask[]): Promise<void> {
    const dequeueMicros = this.scheduler.now();
    for (const task of tasks) {
      const waitMicros = Math.max(0, dequeueMicros - task.enqueueMicros);
      this.observer.batchQueuing(this.scheduler.threadPoolName, waitMicros);
      if (task.trace) {
        const endMs = performance.timeOrigin + performance.now();
        recordWaitSpan('batching queue wait', task.trace, endMs - waitMicros / 1000, endMs, {
          'tfmodel.batch.thread_pool': this.scheduler.threadPoolName,
          'tfmodel.batch.task_size': task.size,
          'tfmodel.batch.tasks': tasks.length,
        });
      }
    }
    try {
      const merged = mergeInputs(tasks, shape.aliases, this.options);
      const size = tasks.reduce((sum, task) => sum + task.size, 0);
      this.observer.paddingSize?.(merged.paddedSize - size, merged.paddedSize);
      this.observer.processedBatchSize?.(merged.paddedSize);
      this.observer.wrappedRun?.();
      const outputs = await this.inner.run({ signature: shape.signature, inputs: merged.inputs, outputFilter: shape.outputFilter });
      const perTask = splitOutputs(outputs, tasks.map((task) => task.size), merged.paddedSize);
      tasks.forEach((task, i) => task.resolve(perTask[i]!));
    } catch (error) {
      const failure = toServingError(error);
      for (const task of tasks) task.reject(failure);
    }
  }
}

function queueShapeOf(request: RunRequest): QueueShape {
  const outputFilter = request.outputFilter && request.outputFilter.length > 0 ? [...request.outputFilter] : undefined;
  return { signature: request.signature, outputFilter, aliases: [...request.inputs.keys()].sort() };
}

function queueKey(shape: QueueShape, inputs: TensorMap, padVariableLengthInputs: boolean): string {
  const tensors = shape.aliases.map((alias) => {
    const tensor = inputs.get(alias)!;
    return [alias, tensor.dtype, padVariableLengthInputs ? tensor.shape.length : tensor.shape.slice(1)];
  });
  return JSON.stringify([shape.signature, shape.outputFilter ?? null, tensors]);
}
