/** The serving core's vocabulary, shared by the manager, the API functions and the transports. */
import type { SignatureDef } from '../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import type { ModelConfigList } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import type { PredictionLog } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import type { LoggingConfig } from '../../gen/tensorflow_serving/config/logging_config_pb.js';
import type { ModelEngine } from '../runtime/engine.js';
import type { SignatureInfo } from '../runtime/savedmodel/signatures.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import type { ServingError } from '../errors.js';

/** Which model (and version) a request is for: TF Serving's ModelSpec, transport-neutral. */
export interface ModelSpecRequest {
  readonly name: string;
  /** A specific version; exclusive with `label`. Neither: the latest available version. */
  readonly version?: bigint;
  readonly label?: string;
  /** Empty or absent: "serving_default". */
  readonly signatureName?: string;
  /**
   * The request's header (REST) or metadata (gRPC) values by lower-case name, for routing: the
   * routing config names the key whose hash picks a weighted label's version.
   */
  readonly requestKeys?: RequestKeys;
}

/** A request's headers (REST) or metadata (gRPC), as routing reads them. */
export interface RequestKeys {
  /** The first value of a lower-case header / metadata key, if present. */
  keyValue(name: string): string | undefined;
  /** Told the version that serves the request once it is acquired (metrics, the REST header). */
  onVersion?(version: bigint): void;
}

/** ModelVersionStatus.State, with TF Serving's numbers. */
export enum VersionState {
  UNKNOWN = 0,
  START = 10,
  LOADING = 20,
  AVAILABLE = 30,
  UNLOADING = 40,
  END = 50,
}

export interface VersionStatus {
  readonly version: bigint;
  readonly state: VersionState;
  /** Set when the version failed to load (state END). */
  readonly error?: ServingError;
  /** AVAILABLE versions: the engine serving it (wasm, cpu, tensorflow). */
  readonly engine?: string;
  /** AVAILABLE versions: an estimate of the memory its weights take (every instance). */
  readonly memoryBytes?: number;
  /**
   * START versions whose load waits (the memory budget, a label still naming the old version):
   * why, as GetModelStatus's status.error_message with error_code OK.
   */
  readonly waiting?: string;
}

export interface ModelStatus {
  readonly name: string;
  readonly basePath: string;
  /** Every version the server knows, newest first. */
  readonly versions: readonly VersionStatus[];
  /** Label -> version, as currently served. */
  readonly labels: ReadonlyMap<string, bigint>;
  /** The model's routing (weighted labels, shadow), as JSON (routing/routing-config.ts), if any. */
  readonly routing?: Readonly<Record<string, unknown>>;
}

/** A loaded, servable model version. Obtain with ServingCore.acquire; release when done. */
export interface ServableHandle {
  readonly name: string;
  readonly version: bigint;
  readonly engine: ModelEngine;
  /** The SignatureDefs as stored in the SavedModel (for GetModelMetadata). */
  readonly signatureDefs: Readonly<Record<string, SignatureDef>>;
  readonly signatures: readonly SignatureInfo[];
  /** The model's payload log (logging_config), when it has one. */
  readonly payloadLog?: PayloadLogSink | undefined;
  /** Set when a routed label chose this version (routing/): the label and its primary. */
  readonly route?: RouteTaken | undefined;
  /** Must be called exactly once: unloading waits for outstanding handles. */
  release(): void;
}

/** How a routed request reached its version. */
export interface RouteTaken {
  readonly label: string;
  /** The version the label names in model.config. */
  readonly primary: bigint;
  /** Where to copy this request (sampled already), if anywhere. */
  readonly shadow?: ShadowCopy | undefined;
}

/** A sampled request's copy to a shadow version: run later, off the caller's path. */
export interface ShadowCopy {
  readonly version: bigint;
  /** Queues the copy (or drops and counts it when the queue is full); never throws. */
  send(call: ShadowCall): void;
}

export interface ShadowCall {
  readonly signatureName: string;
  readonly inputs: ReadonlyMap<string, HostTensor>;
  readonly outputFilter?: readonly string[] | undefined;
  /** What the version that answered the caller returned, or how it failed. */
  readonly outputs?: ReadonlyMap<string, HostTensor> | undefined;
  readonly error?: ServingError | undefined;
}

/** A model's sampled request log: ask `sample()` per call, then `write()` the record if it said yes. */
export interface PayloadLogSink {
  sample(): boolean;
  /** Builds (later, off the request's path) and writes one PredictionLog. */
  write(build: (config: LoggingConfig) => PredictionLog): void;
  /** A predict call's PredictionLog, encoded later (off the request's path) from its tensors. */
  writePredict(
    call: { readonly model: string; readonly version: bigint; readonly signatureName: string },
    inputs: ReadonlyMap<string, HostTensor>,
    outputFilter: readonly string[] | undefined,
    outputs: ReadonlyMap<string, HostTensor>,
  ): void;
}

/** The per-model payload logs, kept in step with the served config (payload-log/PayloadLogs). */
export interface PayloadLogRegistry {
  forModel(name: string): PayloadLogSink | undefined;
  /** Validates every model's logging_config (throws INVALID_ARGUMENT) and applies them. */
  configure(list: ModelConfigList): void;
}

/**
 * What the API functions need from the server. The manager implements it; tests may fake it.
 */
export interface ServingCore {
  /**
   * The servable for a spec: by version, by label, or the latest AVAILABLE version. NOT_FOUND
   * (unknown model/version), INVALID_ARGUMENT (unknown label) as TF Serving answers.
   */
  acquire(spec: ModelSpecRequest): ServableHandle;
  /** NOT_FOUND for an unknown model, or for an unknown version when one is given. */
  modelStatus(name: string, version?: bigint): ModelStatus;
  /** Every configured model. */
  listModels(): ModelStatus[];
  /** True when every configured model has an AVAILABLE version. */
  isReady(): boolean;
  /**
   * --enable_signature_method_name_check: Classify/Regress/Predict require the signature's
   * method_name to match. Absent or false (TF Serving's default): only the signature's structure
   * is checked, so TF2 models (all tensorflow/serving/predict) classify and regress.
   */
  readonly signatureMethodNameCheck?: boolean;
}

/** Config reload (HandleReloadConfigRequest, config file polling). */
export interface ModelConfigReloader {
  /**
   * Makes the served models exactly `list`. Invalid configs and label moves to versions that are
   * not AVAILABLE are rejected as a whole, keeping the previous config.
   */
  reloadConfig(list: ModelConfigList): Promise<void>;
}

export const DEFAULT_SIGNATURE = 'serving_default';
