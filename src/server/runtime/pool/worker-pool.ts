/**
 * Runs a model on several worker threads, each holding its own tfjs instance (tfjs's wasm backend
 * is single-threaded under Node), so throughput scales with cores. Requests go to the worker with
 * the fewest in flight. A worker that dies is replaced; its in-flight requests fail UNAVAILABLE.
 * A worker whose engine traps (a WebAssembly fault) is never used again: the request that trapped
 * fails INTERNAL, the runs queued behind it go to another worker, and a fresh worker replaces it.
 * Models that assign variables keep a single worker so that every request sees the same state.
 */
import { Worker } from 'node:worker_threads';
import { Code, ServingError, fromPlainError } from '../../errors.js';
import type { EngineLoadOptions, ModelEngine, RunRequest, SignatureChecks } from '../engine.js';
import type { SignatureInfo } from '../savedmodel/signatures.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import type { TfjsBackendName } from '../tfjs/setup.js';
import type { FromWorker, RunMessage, ToWorker, WorkerConfig } from './messages.js';

export interface PoolLoadOptions extends EngineLoadOptions {
  readonly backend: TfjsBackendName;
  readonly threads: number;
  /** Called for each trapped engine instance (each replaced worker). */
  readonly onFault?: ((trap: string) => void) | undefined;
}

interface Pending {
  resolve(outputs: Map<string, HostTensor>): void;
  reject(error: Error): void;
  /** The run, kept to send it to another worker when this one trapped before running it. */
  readonly run: RunMessage;
}

interface Started {
  readonly worker: InferenceWorker;
  readonly signatures: SignatureInfo[];
  readonly stateful: boolean;
  readonly inputChecks: ReadonlyMap<string, SignatureChecks>;
}

class InferenceWorker {
  readonly pending = new Map<number, Pending>();
  /** Called when the thread exits after its model loaded; the pool replaces the worker. */
  onExit: ((worker: InferenceWorker) => void) | undefined;
  /** Called when the worker's engine trapped; it takes no more runs. */
  onFault: ((worker: InferenceWorker, trap: string) => void) | undefined;
  /** Called for each run the worker handed back unrun (after a trap). */
  onRetry: ((pending: Pending) => void) | undefined;
  private idleWaiters: Array<() => void> = [];
  private outbox: RunMessage[] = [];

  private constructor(readonly worker: Worker) {}

  /** Starts a worker and waits until its model is loaded. */
  static start(config: WorkerConfig): Promise<Started> {
    return new Promise((resolve, reject) => {
      const thread = new Worker(new URL('./worker-main.js', import.meta.url), { workerData: config });
      const self = new InferenceWorker(thread);
      let ready = false;
      thread.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            ready = true;
            resolve({ worker: self, signatures: message.signatures, stateful: message.stateful, inputChecks: message.inputChecks });
            break;
          case 'load-failed':
            reject(fromPlainError(message.error));
            void thread.terminate();
            break;
          case 'results':
            for (const result of message.results) {
              const pending = self.settle(result.id);
              if (!pending) continue;
              if ('outputs' in result) pending.resolve(new Map(result.outputs));
              else if ('retry' in result) self.onRetry?.(pending);
              else pending.reject(fromPlainError(result.error));
            }
            break;
          case 'fault':
            self.onFault?.(self, message.trap);
            break;
        }
      });
      thread.on('error', (error) => {
        if (!ready) reject(new ServingError(Code.INTERNAL, `inference worker failed while loading: ${error.message}`));
      });
      thread.on('exit', () => {
        self.failAll(new ServingError(Code.UNAVAILABLE, 'inference worker exited while running the request'));
        if (ready) self.onExit?.(self);
      });
    });
  }

  send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** Queues a run; the runs of one event-loop iteration are posted together. */
  enqueue(run: RunMessage): void {
    if (this.outbox.length === 0) {
      setImmediate(() => {
        const runs = this.outbox;
        this.outbox = [];
        this.send({ type: 'runs', runs });
      });
    }
    this.outbox.push(run);
  }

  /** Resolves once no request is in flight. */
  idle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    this.notifyIfIdle();
    return pending;
  }

  failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (this.pending.size > 0) return;
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }
}

export class WorkerPoolEngine implements ModelEngine {
  private nextId = 1;
  private disposed = false;
  /** Replacement workers being started. */
  private starting = 0;
  /** Runs waiting for a worker (every worker trapped or died and replacements are starting). */
  private waiting: Pending[] = [];
  /** Why the pool cannot serve: its last replacement failed to start. */
  private brokenBy: ServingError | undefined;

  private constructor(
    readonly backend: TfjsBackendName,
    readonly signatures: readonly SignatureInfo[],
    readonly stateful: boolean,
    readonly inputChecks: ReadonlyMap<string, SignatureChecks>,
    private readonly config: WorkerConfig,
    private readonly workers: InferenceWorker[],
    private readonly onFault: ((trap: string) => void) | undefined,
  ) {
    for (const worker of workers) this.adopt(worker);
  }

  static async load(exportDir: string, options: PoolLoadOptions): Promise<WorkerPoolEngine> {
    const config: WorkerConfig = { exportDir, tags: options.tags, backend: options.backend };
    // The first worker tells us whether the model is stateful (then it stays alone).
    const first = await InferenceWorker.start(config);
    const workers = [first.worker];
    if (!first.stateful) {
      const rest = await Promise.allSettled(Array.from({ length: Math.max(0, options.threads - 1) }, () => InferenceWorker.start(config)));
      const failed = rest.find((r) => r.status === 'rejected');
      workers.push(...rest.flatMap((r) => (r.status === 'fulfilled' ? [r.value.worker] : [])));
      if (failed) {
        await Promise.all(workers.map((w) => w.worker.terminate()));
        throw (failed as PromiseRejectedResult).reason;
      }
    }
    return new WorkerPoolEngine(options.backend, first.signatures, first.stateful, first.inputChecks, config, workers, options.onFault);
  }

  private adopt(worker: InferenceWorker): void {
    worker.onExit = (dead) => this.replace(dead);
    worker.onRetry = (pending) => this.dispatch(pending);
    worker.onFault = (faulted, trap) => this.retire(faulted, trap);
    this.brokenBy = undefined;
    for (const pending of this.waiting.splice(0)) this.dispatch(pending);
  }

  /** A worker's engine trapped: out of rotation now, terminated once its results are in. */
  private retire(worker: InferenceWorker, trap: string): void {
    const index = this.workers.indexOf(worker);
    if (index < 0) return;
    this.workers.splice(index, 1);
    // Replaced now, not when it exits: the runs it hands back wait for the replacement.
    worker.onExit = undefined;
    this.startReplacement();
    if (this.onFault) this.onFault(trap);
    else console.error(JSON.stringify({ event: 'engine_fault', level: 'warning', trap, action: 'worker replaced' }));
    void worker.idle().then(() => worker.worker.terminate());
  }

  /** Why this pool cannot answer (its workers trapped or died and none could be restarted). */
  health(): ServingError | undefined {
    return this.workers.length === 0 ? this.brokenBy : undefined;
  }

  get size(): number {
    return this.workers.length;
  }

  run(request: RunRequest): Promise<Map<string, HostTensor>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.dispatch({ resolve, reject, run: { id, signature: request.signature, inputs: [...request.inputs], outputFilter: request.outputFilter } });
    });
  }

  private dispatch(pending: Pending): void {
    if (this.workers.length === 0) {
      if (this.starting > 0 && !this.disposed) {
        this.waiting.push(pending);
        return;
      }
      const why = this.brokenBy ? `: ${this.brokenBy.message}` : '';
      pending.reject(new ServingError(Code.UNAVAILABLE, `no inference worker is running${why}`));
      return;
    }
    const worker = this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    worker.pending.set(pending.run.id, pending);
    worker.enqueue(pending.run);
  }

  /** A worker died: drop it and start a replacement (without waiting for it). */
  private replace(dead: InferenceWorker): void {
    const index = this.workers.indexOf(dead);
    if (index >= 0) this.workers.splice(index, 1);
    this.startReplacement();
  }

  private startReplacement(): void {
    if (this.disposed) return;
    this.starting++;
    InferenceWorker.start(this.config).then(
      ({ worker }) => {
        this.starting--;
        if (this.disposed) {
          void worker.worker.terminate();
          return;
        }
        this.workers.push(worker);
        this.adopt(worker);
      },
      (error: unknown) => {
        this.starting--;
        this.brokenBy = new ServingError(Code.UNAVAILABLE, `an inference worker could not be restarted: ${String(error)}`);
        console.error(JSON.stringify({ event: 'worker_restart_failed', error: String(error) }));
        if (this.starting === 0) for (const pending of this.waiting.splice(0)) this.dispatch(pending);
      },
    );
  }

  /** Terminates the workers (after their in-flight requests). */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const pending of this.waiting.splice(0)) pending.reject(new ServingError(Code.UNAVAILABLE, 'the model is being unloaded'));
    const workers = this.workers.splice(0);
    await Promise.all(
      workers.map(async (w) => {
        await w.idle();
        const exited = new Promise<void>((done) => w.worker.once('exit', () => done()));
        w.send({ type: 'dispose' });
        await Promise.race([exited, new Promise((done) => setTimeout(done, 5000).unref())]);
        await w.worker.terminate();
      }),
    );
  }
}
