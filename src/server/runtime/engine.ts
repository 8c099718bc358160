/** What every execution engine (tfjs in-thread, worker pool, native TensorFlow) provides. */
import type { BackendName } from './backend.js';
import type { SignatureInfo } from './savedmodel/signatures.js';
import type { TensorMap } from './signature-io.js';
import type { HostTensor } from './tensor/host-tensor.js';

export interface RunRequest {
  readonly signature: string;
  readonly inputs: TensorMap;
  /** Output aliases to compute (all when absent or empty). */
  readonly outputFilter?: readonly string[];
}

export interface ModelEngine {
  readonly backend: BackendName;
  readonly signatures: readonly SignatureInfo[];
  /** True when some signature assigns variables: every request must reach the same instance. */
  readonly stateful: boolean;
  run(request: RunRequest): Promise<Map<string, HostTensor>>;
  dispose(): Promise<void>;
}

export interface EngineLoadOptions {
  /** The MetaGraphDef's tag set (default: serve). */
  readonly tags?: readonly string[];
}
