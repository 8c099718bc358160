/**
 * A model on tfjs in the calling thread (--inference_threads=0) that survives a WebAssembly trap.
 * Every model of a thread shares one wasm instance, so a trap in any of them rebuilds the thread's
 * wasm backend (setup.ts) and every model of the thread loads itself again before its next run.
 * The request that trapped fails INTERNAL; a model that cannot load again fails its requests
 * UNAVAILABLE and says why in health(), which the version's status reports. A stateful model
 * restarts from its checkpoint values (its variables lived in the lost instance).
 */
import { Code, ServingError, toServingError } from '../../errors.js';
import type { ModelEngine, RunRequest, SignatureChecks } from '../engine.js';
import type { SignatureInfo } from '../savedmodel/signatures.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import { EngineFault } from './engine-errors.js';
import { backendGeneration, backendReady, rebuildWasmBackend } from './setup.js';
import { TfjsEngine, type TfjsLoadOptions } from './tfjs-engine.js';

export class RebuildingEngine implements ModelEngine {
  private reloading: Promise<void> | undefined;
  private brokenBy: ServingError | undefined;
  private disposed = false;

  private constructor(
    private readonly exportDir: string,
    private readonly options: TfjsLoadOptions,
    private current: TfjsEngine,
    private generation: number,
  ) {}

  static async load(exportDir: string, options: TfjsLoadOptions): Promise<ModelEngine> {
    if (options.backend !== 'wasm') return TfjsEngine.load(exportDir, options);
    await backendReady();
    const generation = backendGeneration();
    return new RebuildingEngine(exportDir, options, await TfjsEngine.load(exportDir, options), generation);
  }

  get backend(): TfjsEngine['backend'] {
    return this.current.backend;
  }

  get signatures(): readonly SignatureInfo[] {
    return this.current.signatures;
  }

  get stateful(): boolean {
    return this.current.stateful;
  }

  get inputChecks(): ReadonlyMap<string, SignatureChecks> {
    return this.current.inputChecks;
  }

  health(): ServingError | undefined {
    return this.brokenBy;
  }

  async run(request: RunRequest): Promise<Map<string, HostTensor>> {
    if (this.generation !== backendGeneration()) await this.reload();
    if (this.brokenBy) throw this.brokenBy;
    const engine = this.current;
    const generation = this.generation;
    try {
      return await engine.run(request);
    } catch (error) {
      if (!(error instanceof EngineFault)) throw error;
      this.options.onFault?.(error.trap);
      if (!this.options.onFault) console.error(JSON.stringify({ event: 'engine_fault', level: 'warning', trap: error.trap, action: 'wasm backend rebuilt' }));
      // Not awaited by this request: it fails now; the next one waits for the reload.
      void rebuildWasmBackend(generation).catch(() => undefined);
      throw error;
    }
  }

  /** Loads the model again on the rebuilt backend (once, however many requests are waiting). */
  private reload(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        await backendReady();
        const generation = backendGeneration();
        this.current.abandon();
        const engine = await TfjsEngine.load(this.exportDir, this.options);
        if (this.disposed) {
          await engine.dispose();
          return;
        }
        this.current = engine;
        this.generation = generation;
        this.brokenBy = undefined;
      } catch (error) {
        this.generation = backendGeneration();
        this.brokenBy = new ServingError(Code.UNAVAILABLE, `the model could not be loaded again after an engine fault: ${toServingError(error).message}`);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.reloading;
    if (this.generation === backendGeneration()) await this.current.dispose();
    else this.current.abandon();
  }
}
