/**
 * The native engine: a SavedModel in a TensorFlow session, run through tfmodel's addon over the C
 * API, as TensorFlow Serving runs one (TF_LoadSessionFromSavedModel restores the variables and runs
 * the init ops; each request is one TF_SessionRun feeding the signature's tensors). Every dtype a
 * signature declares crosses as its own bytes: int64 and float64 whole, strings as bytes.
 * Signatures and request checks come from our own SavedModel reader, so every engine reports the
 * same metadata and errors; TensorFlow's own errors keep their code and text. Fed shapes are
 * checked against the graph before TF_SessionRun (feed-checks.ts): TensorFlow's oneDNN kernels
 * abort the process on some that the graph was not built for.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MetaGraphDef } from '../../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import type { BackendName } from '../backend.js';
import { TensorBundle } from '../checkpoint/tensor-bundle.js';
import { capturedObjectsByNode } from '../graph/checkpoint-keys.js';
import { parseRef } from '../graph/ir.js';
import { topLevelBody } from '../graph/library.js';
import type { EngineLoadOptions, ModelEngine, RunRequest, SignatureChecks } from '../engine.js';
import { Code, ServingError, toServingError, unimplemented } from '../../errors.js';
import { DEFAULT_TAGS, selectMetaGraph } from '../savedmodel/meta-graph.js';
import { readSavedModelProto } from '../savedmodel/read-saved-model.js';
import { type SignatureInfo, describeSignatures, findSignature } from '../savedmodel/signatures.js';
import { selectOutputs, validateInputs, validateShapes } from '../signature-io.js';
import { DataType, baseDtype, dtypeEnumName, isSupportedHostDtype } from '../tensor/dtypes.js';
import type { HostTensor, TensorData } from '../tensor/host-tensor.js';
import { sessionInputChecks } from './feed-checks.js';
import { type SessionConfig, encodeSessionConfig } from './session-config.js';
import { type AddonFeed, type AddonOutput, type AddonSession, type RestoreEntry, type TfAddon, loadAddon } from './tf-addon.js';

export interface SessionLoadOptions extends EngineLoadOptions {
  readonly session?: SessionConfig;
  /** For tests: the addon to use (default: the installed one). */
  readonly addon?: TfAddon;
}

export class SessionEngine implements ModelEngine {
  readonly backend: BackendName = 'tensorflow';
  /** The session holds variable state for all callers; any caller may run. */
  readonly stateful = false;
  private closed = false;

  private constructor(
    readonly signatures: readonly SignatureInfo[],
    private readonly addon: TfAddon,
    private readonly session: AddonSession,
    /** Signature key -> what its requests are checked against (the graph's feed dtypes and shapes). */
    readonly inputChecks: ReadonlyMap<string, SignatureChecks>,
  ) {}

  static async load(exportDir: string, options: SessionLoadOptions = {}): Promise<SessionEngine> {
    const tags = [...(options.tags ?? DEFAULT_TAGS)];
    const metaGraph = selectMetaGraph(await readSavedModelProto(exportDir), tags);
    const signatures = describeSignatures(metaGraph);
    const prefix = join(exportDir, 'variables', 'variables');
    const bundle = existsSync(`${prefix}.index`) ? await TensorBundle.open(prefix) : undefined;
    const unrestored = await variablesTheSaverMisses(metaGraph, bundle);
    const addon = options.addon ?? loadAddon();
    let session: AddonSession;
    try {
      session = await addon.loadSession(exportDir, tags, encodeSessionConfig(options.session ?? {}) ?? null);
    } catch (error) {
      throw fromTensorFlow(error, `Loading SavedModel ${exportDir} in a TensorFlow session`);
    }
    try {
      if (unrestored.length > 0) await addon.restoreVariables(session, prefix, unrestored);
    } catch (error) {
      addon.closeSession(session);
      throw fromTensorFlow(error, `Restoring the variables of SavedModel ${exportDir}`);
    }
    return new SessionEngine(signatures, addon, session, sessionInputChecks(metaGraph, signatures));
  }

  async run({ signature: key, inputs, outputFilter }: RunRequest): Promise<Map<string, HostTensor>> {
    if (this.closed) throw new ServingError(Code.FAILED_PRECONDITION, 'Session has been closed.');
    const signature = findSignature(this.signatures, key);
    const checks = this.inputChecks.get(key);
    validateInputs(signature, inputs, checks?.feedDtypes);
    validateShapes(signature, inputs, checks);
    const outputs = selectOutputs(signature, outputFilter);
    const feeds: AddonFeed[] = signature.inputs.map((spec) => {
      const tensor = inputs.get(spec.alias)!;
      return { name: spec.tensorName, dtype: tensor.dtype, shape: tensor.shape, data: tensor.data };
    });
    let fetched: AddonOutput[];
    try {
      fetched = await this.addon.run(this.session, feeds, outputs.map((o) => o.tensorName), []);
    } catch (error) {
      throw fromTensorFlow(error);
    }
    const values = new Map<string, HostTensor>();
    outputs.forEach((spec, i) => values.set(spec.alias, hostTensorOf(fetched[i]!, spec.alias)));
    return values;
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.addon.closeSession(this.session);
  }
}

/**
 * TF2 SavedModels whose signatures read variables through handles the saver never restores: Keras 3
 * layers' variables captured by a tf.function of a module (`tf.saved_model.save`) are written as
 * two VarHandleOps each, the saver's restore function assigning one (`Variable_N`) while the
 * signatures read the other (`conv1/kernel`). TensorFlow's session loader, which TF Serving and
 * the C API use, leaves those uninitialized ("Could not find variable ..."); tf.saved_model.load
 * restores them from the object graph. We do what it does: every variable a signature captures
 * (the object graph's bound inputs and checkpoint keys) whose handle is not an input of the
 * saver's restore op is restored from its checkpoint key.
 */
export async function variablesTheSaverMisses(metaGraph: MetaGraphDef, bundle: TensorBundle | undefined): Promise<RestoreEntry[]> {
  if (!bundle || !metaGraph.objectGraphDef) return [];
  const top = topLevelBody(metaGraph);
  const restore = top.nodes.get(parseRef(metaGraph.saverDef?.restoreOpName ?? '').node);
  if (!restore || !restore.op.endsWith('PartitionedCall')) return [];
  const restored = new Set(restore.inputs.map((i) => parseRef(i).node));
  const entries: RestoreEntry[] = [];
  for (const [name, object] of await capturedObjectsByNode(metaGraph, top, bundle)) {
    const node = top.nodes.get(name);
    if (object.kind !== 'variable' || node?.op !== 'VarHandleOp' || restored.has(name) || !bundle.has(object.key)) continue;
    const dtype = node.attr['dtype']?.value;
    if (dtype?.case !== 'type') continue;
    entries.push({ handle: name, key: object.key, dtype: dtype.value });
  }
  return entries;
}

/** TensorFlow's status (the addon's Error with `code`) as a ServingError with the same code and text. */
export function fromTensorFlow(error: unknown, context?: string): ServingError {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof Error && typeof code === 'number' && code > 0 && code <= Code.UNAUTHENTICATED) {
    return new ServingError(code as Code, context ? `${context}: ${error.message}` : error.message, { cause: error });
  }
  return toServingError(error, context);
}

/** A fetched tensor as host data, viewing TensorFlow's buffer (no copy). */
export function hostTensorOf(output: AddonOutput, alias: string): HostTensor {
  const dtype = baseDtype(output.dtype as DataType);
  if (!isSupportedHostDtype(dtype)) throw unimplemented(`output ${alias} has dtype ${dtypeEnumName(dtype)}, which cannot be returned`);
  const data = dtype === DataType.DT_STRING ? (output.data as Uint8Array[]) : viewOf(dtype, output.data as ArrayBuffer);
  return { dtype, shape: output.shape, data };
}

function viewOf(dtype: DataType, buffer: ArrayBuffer): TensorData {
  switch (dtype) {
    case DataType.DT_FLOAT:
    case DataType.DT_COMPLEX64: return new Float32Array(buffer);
    case DataType.DT_DOUBLE:
    case DataType.DT_COMPLEX128: return new Float64Array(buffer);
    case DataType.DT_INT32: return new Int32Array(buffer);
    case DataType.DT_INT64: return new BigInt64Array(buffer);
    case DataType.DT_UINT64: return new BigUint64Array(buffer);
    case DataType.DT_UINT8:
    case DataType.DT_BOOL: return new Uint8Array(buffer);
    case DataType.DT_INT8: return new Int8Array(buffer);
    case DataType.DT_INT16: return new Int16Array(buffer);
    case DataType.DT_UINT16:
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16: return new Uint16Array(buffer);
    case DataType.DT_UINT32: return new Uint32Array(buffer);
    default: throw unimplemented(`no host view for ${dtypeEnumName(dtype)}`);
  }
}
