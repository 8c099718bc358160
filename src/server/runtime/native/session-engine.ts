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
import { join } from 'node:path';
import type { BackendName } from '../backend.js';
import type { EngineLoadOptions, ModelEngine, RunRequest, SignatureChecks } from '../engine.js';
import { Code, ServingError, toServingError, unimplemented } from '../../errors.js';
import { DEFAULT_TAGS } from '../savedmodel/meta-graph.js';
import { inspectOffLoop } from '../savedmodel/off-loop-inspection.js';
import { type SignatureInfo, findSignature } from '../savedmodel/signatures.js';
import { selectOutputs, validateInputs, validateShapes } from '../signature-io.js';
import { DataType, baseDtype, dtypeEnumName, isSupportedHostDtype } from '../tensor/dtypes.js';
import type { HostTensor, TensorData } from '../tensor/host-tensor.js';
import { IN_CALLER_THREAD } from './run-options.js';
import { type SessionConfig, encodeSessionConfig } from './session-config.js';
import type { SessionInspection } from './session-inspection.js';
import { trimAllocator, trimsAfterClose } from './memory-trim.js';
import { type AddonFeed, type AddonOutput, type AddonSession, type TfAddon, loadAddon } from './tf-addon.js';

export { variablesTheSaverMisses } from './session-inspection.js';

export interface SessionLoadOptions extends EngineLoadOptions {
  readonly session?: SessionConfig;
  /** The SavedModel's inspection when the caller has it (default: computed in a worker thread). */
  readonly inspection?: SessionInspection;
  /** For tests: the addon to use (default: the installed one). */
  readonly addon?: TfAddon;
  /** Trim the allocator after the session closes (default: trimsAfterClose(), memory-trim.ts). */
  readonly trimAfterClose?: boolean;
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
    private readonly trimAfterClose: boolean,
  ) {}

  static async load(exportDir: string, options: SessionLoadOptions = {}): Promise<SessionEngine> {
    const tags = [...(options.tags ?? DEFAULT_TAGS)];
    // Everything read from the SavedModel's files runs in a worker: the event loop keeps serving.
    const inspection = options.inspection ?? await inspectOffLoop(exportDir, tags);
    const prefix = join(exportDir, 'variables', 'variables');
    const addon = options.addon ?? loadAddon();
    let session: AddonSession;
    try {
      session = await addon.loadSession(exportDir, tags, encodeSessionConfig(options.session ?? {}) ?? null);
    } catch (error) {
      throw fromTensorFlow(error, `Loading SavedModel ${exportDir} in a TensorFlow session`);
    }
    try {
      if (inspection.restoreEntries.length > 0) await addon.restoreVariables(session, prefix, inspection.restoreEntries);
    } catch (error) {
      await addon.closeSession(session);
      throw fromTensorFlow(error, `Restoring the variables of SavedModel ${exportDir}`);
    }
    return new SessionEngine(inspection.signatures, addon, session, inspection.inputChecks, options.trimAfterClose ?? trimsAfterClose());
  }

  async run({ signature: key, inputs, outputFilter, inCallerThread }: RunRequest): Promise<Map<string, HostTensor>> {
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
      fetched = await this.addon.run(this.session, feeds, outputs.map((o) => o.tensorName), [], inCallerThread ? IN_CALLER_THREAD : null);
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
    // TensorFlow frees the graph and session on libuv's thread pool (after runs in flight).
    await this.addon.closeSession(this.session);
    // Then glibc hands the freed pages back (memory-trim.ts), also off the event loop.
    if (this.trimAfterClose) await trimAllocator(this.addon);
  }
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
