/**
 * Runs SavedModels natively on libtensorflow (CPU or CUDA) through tfjs-node's loadSavedModel:
 * no freezing, every TensorFlow op available. Signatures and input checks come from our own
 * SavedModel reader, so every engine reports the same metadata and errors.
 */
import type { BackendName, NativePackage } from '../backend.js';
import type { EngineLoadOptions, ModelEngine, RunRequest } from '../engine.js';
import { toServingError } from '../../errors.js';
import { DEFAULT_TAGS, selectMetaGraph } from '../savedmodel/meta-graph.js';
import { readSavedModelProto } from '../savedmodel/read-saved-model.js';
import { type SignatureInfo, describeSignatures, findSignature } from '../savedmodel/signatures.js';
import { selectOutputs, validateInputs } from '../signature-io.js';
import { DataType } from '../tensor/dtypes.js';
import type { HostTensor } from '../tensor/host-tensor.js';
import { fromTfjsValues, toTfjsValues } from '../tfjs/convert.js';
import {
  type ModuleImporter,
  type NativeSavedModel,
  type NativeTensor,
  type NativeTfModule,
  importNativePackage,
} from './native-package.js';

export interface NativeLoadOptions extends EngineLoadOptions {
  readonly nativePackage: NativePackage;
  /** For tests: how to import the package. */
  readonly importer?: ModuleImporter;
}

export class NativeEngine implements ModelEngine {
  readonly backend: BackendName = 'tensorflow';
  /** libtensorflow keeps variable state in its session, shared by all callers. */
  readonly stateful = false;

  private constructor(
    readonly signatures: readonly SignatureInfo[],
    private readonly tf: NativeTfModule,
    private readonly models: ReadonlyMap<string, NativeSavedModel>,
  ) {}

  static async load(exportDir: string, options: NativeLoadOptions): Promise<NativeEngine> {
    const tags = [...(options.tags ?? DEFAULT_TAGS)];
    const signatures = describeSignatures(selectMetaGraph(await readSavedModelProto(exportDir), tags));
    const tf = await importNativePackage(options.nativePackage, options.importer);
    const models = new Map<string, NativeSavedModel>();
    try {
      for (const signature of signatures) models.set(signature.key, await tf.node.loadSavedModel(exportDir, tags, signature.key));
    } catch (error) {
      for (const model of models.values()) model.dispose();
      throw toServingError(error, `Loading SavedModel ${exportDir} with ${options.nativePackage}`);
    }
    return new NativeEngine(signatures, tf, models);
  }

  async run({ signature: key, inputs, outputFilter }: RunRequest): Promise<Map<string, HostTensor>> {
    const signature = findSignature(this.signatures, key);
    validateInputs(signature, inputs);
    const outputs = selectOutputs(signature, outputFilter);
    const feeds: Record<string, NativeTensor> = {};
    const fetched: NativeTensor[] = [];
    try {
      for (const spec of signature.inputs) {
        const value = toTfjsValues(inputs.get(spec.alias)!, `input ${spec.alias}`);
        feeds[spec.alias] = this.tf.tensor(value.values, value.shape, value.dtype);
      }
      const result = this.models.get(key)!.predict(feeds);
      const byAlias = outputsByAlias(result, signature);
      const values = new Map<string, HostTensor>();
      for (const spec of outputs) {
        const tensor = byAlias.get(spec.alias);
        if (!tensor) throw new Error(`native model returned no output ${spec.alias}`);
        const data = spec.dtype === DataType.DT_STRING && tensor.bytes ? await tensor.bytes() : await tensor.data();
        values.set(spec.alias, fromTfjsValues(data as ArrayLike<number> | Uint8Array[], tensor.shape, spec.dtype));
      }
      fetched.push(...byAlias.values());
      return values;
    } catch (error) {
      throw toServingError(error);
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
      for (const t of fetched) t.dispose();
    }
  }

  async dispose(): Promise<void> {
    for (const model of this.models.values()) model.dispose();
  }
}

/** tfjs-node returns a tensor (one output), an array, or a map keyed by output alias. */
function outputsByAlias(
  result: NativeTensor | NativeTensor[] | Record<string, NativeTensor>,
  signature: SignatureInfo,
): Map<string, NativeTensor> {
  if (Array.isArray(result)) return new Map(signature.outputs.map((o, i) => [o.alias, result[i]!] as const));
  if (typeof (result as NativeTensor).data === 'function') return new Map([[signature.outputs[0]!.alias, result as NativeTensor]]);
  return new Map(Object.entries(result as Record<string, NativeTensor>));
}
