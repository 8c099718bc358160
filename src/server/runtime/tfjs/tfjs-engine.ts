/**
 * Executes a SavedModel's signatures on tfjs (wasm or cpu backend): the meta graph is frozen into
 * a plain graph, handed to tfjs-converter, and each run feeds the signature's input tensors and
 * fetches its outputs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModelSync } from '@tensorflow/tfjs-converter';
import { Code, ServingError, toServingError } from '../../errors.js';
import { EngineFault, classifyRunError } from './engine-errors.js';
import { TensorBundle } from '../checkpoint/tensor-bundle.js';
import type { EngineLoadOptions, ModelEngine, RunRequest, SignatureChecks } from '../engine.js';
import { type FrozenGraph, type SignatureBinding, freezeMetaGraph } from '../graph/freeze.js';
import { parseRef } from '../graph/ir.js';
import { FunctionLibrary } from '../graph/library.js';
import { DEFAULT_TAGS, selectMetaGraph } from '../savedmodel/meta-graph.js';
import { readSavedModelProto } from '../savedmodel/read-saved-model.js';
import { type SignatureInfo, type TensorSpec, describeSignatures, findSignature } from '../savedmodel/signatures.js';
import { selectOutputs, validateInputs, validateShapes } from '../signature-io.js';
import { shapeAgnosticInputs } from '../graph/shape-agnostic.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import { type TfjsArtifacts, toTfjsArtifacts } from './artifacts.js';
import { fromTfjs, fromTfjsSync, toTfjs } from './convert.js';
import { optimizeForTfjs } from './optimize.js';
import { patchHashTableFind } from './hash-table-find.js';
import { type ModelContext, createModelContext, releaseModelContext } from './custom-ops/context.js';
import { type TfjsBackendName, initTfjs } from './setup.js';

type Binding = SignatureBinding & { readonly async: boolean; readonly shapeBound: ReadonlySet<string> };

export interface TfjsLoadOptions extends EngineLoadOptions {
  readonly backend: TfjsBackendName;
}

export class TfjsEngine implements ModelEngine {
  readonly stateful: boolean;
  readonly inputChecks: ReadonlyMap<string, SignatureChecks>;
  private queue: Promise<unknown> = Promise.resolve();
  /** Set when a run trapped: this instance's wasm heap can no longer be trusted. */
  private trapped: EngineFault | undefined;

  private constructor(
    readonly backend: TfjsBackendName,
    readonly signatures: readonly SignatureInfo[],
    private readonly bindings: ReadonlyMap<string, Binding>,
    private readonly model: ReturnType<typeof loadGraphModelSync>,
    private readonly context: ModelContext,
  ) {
    this.stateful = context.variables.size > 0;
    this.inputChecks = new Map([...bindings].map(([key, b]) => [key, { feedDtypes: b.feedDtypes, shapeBound: b.shapeBound }]));
  }

  static async load(exportDir: string, options: TfjsLoadOptions): Promise<TfjsEngine> {
    await initTfjs(options.backend);
    const savedModel = await readSavedModelProto(exportDir);
    const metaGraph = selectMetaGraph(savedModel, options.tags ?? DEFAULT_TAGS);
    const indexPath = join(exportDir, 'variables', 'variables.index');
    const bundle = existsSync(indexPath) ? await TensorBundle.open(join(exportDir, 'variables', 'variables')) : undefined;
    const frozen = await freezeMetaGraph({ metaGraph, exportDir, bundle });
    // Before the tfjs rewrites: the analysis reads TensorFlow's own ops.
    const shapeBound = new Map(frozen.signatures.map((b) => {
      const free = shapeAgnosticInputs(frozen.nodes, b);
      return [b.key, new Set([...b.inputs.keys()].filter((alias) => !free.has(alias)))];
    }));
    optimizeForTfjs(frozen);
    const context = createModelContext();
    try {
      const artifacts = toTfjsArtifacts(frozen, new FunctionLibrary(metaGraph).registry, context);
      const model = loadGraphModelSync({
        modelTopology: artifacts.modelTopology,
        weightSpecs: artifacts.weightSpecs,
        weightData: artifacts.weightData,
        ...(artifacts.modelInitializer ? { modelInitializer: artifacts.modelInitializer } : {}),
        format: 'graph-model',
      });
      releaseArtifacts(model);
      if (frozen.tables.length > 0) {
        await initializeTables(model, frozen.tables[0]!.table);
        patchHashTableFind(model);
      }
      for (const key of frozen.mutableVariables) {
        context.variables.set(key, tf.keep(toTfjs(frozen.variables.get(key)!, 'clamp', `variable ${key}`)));
      }
      const bindings = new Map(frozen.signatures.map((b) => [b.key, { ...b, async: needsAsync(frozen, b, artifacts), shapeBound: shapeBound.get(b.key)! }]));
      return new TfjsEngine(options.backend, describeSignatures(metaGraph), bindings, model, context);
    } catch (error) {
      releaseModelContext(context);
      throw toServingError(error, `Loading SavedModel ${exportDir}`);
    }
  }

  /** The trap that ended this instance, if one did (synchronously visible, for the pool worker). */
  get fault(): EngineFault | undefined {
    return this.trapped;
  }

  private failed(error: unknown): ServingError {
    const classified = classifyRunError(error);
    if (classified instanceof EngineFault) this.trapped ??= classified;
    return classified;
  }

  private refuseIfTrapped(): void {
    if (this.trapped) throw new ServingError(Code.UNAVAILABLE, `this engine instance failed earlier (${this.trapped.trap}) and is being rebuilt`);
  }

  run(request: RunRequest): Promise<Map<string, HostTensor>> {
    if (this.trapped) {
      try {
        this.refuseIfTrapped();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const binding = this.bindings.get(request.signature);
    // A synchronous run of a stateless model cannot interleave with anything: run it now.
    if (binding && !binding.async && !this.stateful) {
      try {
        return Promise.resolve(this.runSync(request.signature, request, binding));
      } catch (error) {
        return Promise.reject(this.failed(error));
      }
    }
    // Otherwise one run at a time: async runs (control flow) yield between ops, and runs may
    // touch variables.
    const result = this.queue.then(() => {
      this.refuseIfTrapped();
      return this.runAsync(request);
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  private prepare(key: string, { inputs, outputFilter }: RunRequest, binding: Binding): { feeds: tf.NamedTensorMap; outputs: TensorSpec[]; names: string[] } {
    const signature = findSignature(this.signatures, key);
    validateInputs(signature, inputs, binding.feedDtypes);
    validateShapes(signature, inputs, binding);
    const outputs = selectOutputs(signature, outputFilter);
    const feeds: tf.NamedTensorMap = {};
    try {
      for (const spec of signature.inputs) {
        const ref = binding.inputs.get(spec.alias);
        if (ref !== undefined) feeds[ref] = toTfjs(inputs.get(spec.alias)!, 'check', `input ${spec.alias}`);
      }
    } catch (error) {
      for (const t of Object.values(feeds)) t.dispose();
      throw error;
    }
    return { feeds, outputs, names: outputs.map((o) => binding.outputs.get(o.alias)!) };
  }

  private runSync(key: string, request: RunRequest, binding: Binding): Map<string, HostTensor> {
    const { feeds, outputs, names } = this.prepare(key, request, binding);
    let fetched: tf.Tensor[] = [];
    try {
      const result = this.model.execute(feeds, names);
      fetched = Array.isArray(result) ? result : [result];
      const values = new Map<string, HostTensor>();
      for (let i = 0; i < outputs.length; i++) values.set(outputs[i]!.alias, fromTfjsSync(fetched[i]!, outputs[i]!.dtype));
      return values;
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
      for (const t of fetched) t.dispose();
    }
  }

  private async runAsync(request: RunRequest): Promise<Map<string, HostTensor>> {
    const binding = this.bindings.get(request.signature);
    if (!binding) findSignature(this.signatures, request.signature);
    const { feeds, outputs, names } = this.prepare(request.signature, request, binding!);
    let fetched: tf.Tensor[] = [];
    try {
      const result = binding!.async ? await this.model.executeAsync(feeds, names) : this.model.execute(feeds, names);
      fetched = Array.isArray(result) ? result : [result];
      const values = new Map<string, HostTensor>();
      for (let i = 0; i < outputs.length; i++) values.set(outputs[i]!.alias, await fromTfjs(fetched[i]!, outputs[i]!.dtype));
      return values;
    } catch (error) {
      throw this.failed(error);
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
      for (const t of fetched) t.dispose();
    }
  }

  /**
   * Forgets the model without touching its tensors: after a trap, the wasm backend that held them
   * has been replaced (tfjs-setup rebuildWasmBackend) and calling into the old instance could trap
   * again. The old instance's memory goes with its last reference.
   */
  abandon(): void {
    releaseModelContext(this.context, false);
  }

  async dispose(): Promise<void> {
    await this.queue;
    this.model.dispose();
    releaseModelContext(this.context);
  }
}

/**
 * GraphModel keeps its load artifacts (for save()), which would hold our weight buffers and the
 * JSON topology alive after the weights were copied into the backend: a second copy of the model.
 */
function releaseArtifacts(model: ReturnType<typeof loadGraphModelSync>): void {
  (model as unknown as { artifacts: object }).artifacts = {};
}

/**
 * tfjs fills tables on a model's first execution, and only its async executor can run table ops:
 * so run it once now, fetching one table handle. Later runs may then be synchronous.
 */
async function initializeTables(model: ReturnType<typeof loadGraphModelSync>, tableNode: string): Promise<void> {
  const handle = await model.executeAsync({}, [tableNode]);
  for (const t of Array.isArray(handle) ? handle : [handle]) t.dispose();
}

function needsAsync(frozen: FrozenGraph, binding: SignatureBinding, artifacts: TfjsArtifacts): boolean {
  if (artifacts.asyncOps.size === 0) return false;
  const seen = new Set<string>();
  const stack = [...binding.outputs.values()];
  const fed = new Set([...binding.inputs.values()].filter((r) => r !== undefined).map((r) => parseRef(r!).node));
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name) || fed.has(name)) continue;
    seen.add(name);
    const node = frozen.nodes.get(name);
    if (!node) continue;
    if (artifacts.asyncOps.has(node.op)) return true;
    for (const input of node.inputs) stack.push(parseRef(input).node);
  }
  return false;
}
