/** What every execution engine (tfjs in-thread, worker pool, native TensorFlow) provides. */
import type { ServingError } from '../errors.js';
import type { BackendName } from './backend.js';
import type { SignatureInfo } from './savedmodel/signatures.js';
import type { TensorMap } from './signature-io.js';
import type { DataType } from './tensor/dtypes.js';
import type { HostTensor } from './tensor/host-tensor.js';

export interface RunRequest {
  readonly signature: string;
  readonly inputs: TensorMap;
  /** Output aliases to compute (all when absent or empty). */
  readonly outputFilter?: readonly string[];
  /**
   * A hint for small runs off any caller's path (shadow copies): run in the calling thread instead
   * of handing the step to the engine's shared inter-op pool (the native engine's
   * RunOptions.inter_op_thread_pool = -1, run-options.ts); engines without such a pool ignore it.
   */
  readonly inCallerThread?: boolean;
}

/** What a request to one signature is checked against before any kernel runs (signature-io.ts). */
export interface SignatureChecks {
  /** alias -> the dtype of the graph's feed point, when it differs from the SignatureDef's. */
  readonly feedDtypes?: ReadonlyMap<string, DataType>;
  /** The aliases whose declared shape binds (the others flow through element-wise ops only). */
  readonly shapeBound: ReadonlySet<string>;
  /**
   * alias -> the shape its graph feed point (a Placeholder) declares, checked like the
   * SignatureDef's for the bound aliases (the native engine; TensorFlow's kernels trust it).
   */
  readonly feedShapes?: ReadonlyMap<string, readonly number[]>;
  /**
   * Whether the bound inputs with an unknown leading dimension must agree on it (default true:
   * the portable engine's kernels need it). The native engine leaves it to TensorFlow, whose
   * kernels check or broadcast it (BatchMatMulV2 broadcasts a batch of 1).
   */
  readonly sameBatch?: boolean;
}

export interface ModelEngine {
  readonly backend: BackendName;
  readonly signatures: readonly SignatureInfo[];
  /** True when some signature assigns variables: every request must reach the same instance. */
  readonly stateful: boolean;
  /**
   * Signature key -> its request checks. Absent: dtypes are checked against the SignatureDef and
   * shapes are left to the engine's kernels.
   */
  readonly inputChecks?: ReadonlyMap<string, SignatureChecks>;
  /**
   * Why the engine cannot answer now (its instances trapped and could not be rebuilt), or
   * undefined when it is healthy. Absent: always healthy.
   */
  health?(): ServingError | undefined;
  run(request: RunRequest): Promise<Map<string, HostTensor>>;
  dispose(): Promise<void>;
}

export interface EngineLoadOptions {
  /** The MetaGraphDef's tag set (default: serve). */
  readonly tags?: readonly string[];
  /** Called each time an engine instance traps and is discarded (the tfjs engines). */
  readonly onFault?: ((trap: string) => void) | undefined;
}
