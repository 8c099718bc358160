/**
 * Model warmup (--enable_model_warmup, --num_request_iterations_for_warmup): before a version
 * becomes AVAILABLE, replay its logged requests so lazy initialisation (kernel compilation, first
 * allocations) happens at load time instead of on the first user request. A failing warmup
 * request fails the load, as in TF Serving.
 */
import type { PredictionLog } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import type { LoadedServable, VersionToLoad } from '../core/version-loader.js';
import type { ServableHandle, ServingCore } from '../core/types.js';
import { ServingError, failedPrecondition, toServingError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { ServingObserver } from '../observability.js';
import { replayWarmupLog, warmupLogKind } from './replay.js';
import { type WarmupData, readWarmupData } from './warmup-file.js';

/** What TF Serving records after a warmup, with its exact status label. */
export interface WarmupReport {
  /** The version directory (TF's model_path label). */
  readonly modelPath: string;
  /** "OK", or the failure as TensorFlow prints a Status ("INVALID_ARGUMENT: ..."). */
  readonly status: string;
  readonly micros: number;
  /** Records fully replayed (:tensorflow:serving:model_warmup_records_read). */
  readonly recordsRead: number;
}

export interface WarmupReportObserver {
  warmupFinished(report: WarmupReport): void;
}

/** ServingObserver's warmup event, or the detailed report when the observer takes it (metrics/ does). */
export type WarmupObserver = Pick<ServingObserver, 'warmup'> & Partial<WarmupReportObserver>;

export interface ModelWarmupOptions {
  /** Times each record is replayed; TF Serving uses the flag only when it is > 0 (default 1). */
  readonly numRequestIterations?: number;
  readonly observer?: WarmupObserver;
  readonly log?: Logger;
  /** Microseconds, monotonic (tests). */
  readonly now?: () => number;
}

/** savedModelLoader's `beforeAvailable` hook. */
export type BeforeAvailable = (servable: LoadedServable, version: VersionToLoad) => Promise<void>;

export function modelWarmup(options: ModelWarmupOptions = {}): BeforeAvailable {
  const iterations = options.numRequestIterations && options.numRequestIterations > 0 ? options.numRequestIterations : 1;
  const now = options.now ?? ((): number => performance.now() * 1000);
  return async (servable, version) => {
    const start = now();
    let data: WarmupData | undefined;
    let recordsRead = 0;
    try {
      data = await readWarmupData(version.dir);
      if (!data) {
        options.log?.info('warmup_data_not_found', { model: version.model, version: version.version, dir: version.dir });
        return;
      }
      const core = servableCore(servable, version);
      for (const [index, log] of data.logs.entries()) {
        for (let i = 0; i < iterations; i++) await replayOne(core, log, index, data.path);
        recordsRead++;
      }
    } catch (error) {
      const failure = toServingError(error);
      report(options.observer, { modelPath: version.dir, status: failure.toString(), micros: now() - start, recordsRead });
      throw failure;
    }
    const micros = now() - start;
    report(options.observer, { modelPath: version.dir, status: 'OK', micros, recordsRead });
    options.log?.info('warmup_finished', { model: version.model, version: version.version, path: data.path, records: recordsRead, micros: Math.round(micros) });
  };
}

async function replayOne(core: ServingCore, log: PredictionLog, index: number, path: string): Promise<void> {
  try {
    await replayWarmupLog(core, log);
  } catch (error) {
    const failure = toServingError(error);
    throw new ServingError(failure.code, `Warmup request ${index} (${warmupLogKind(log)}) from ${path} failed: ${failure.message}`, {
      cause: error,
    });
  }
}

function report(observer: WarmupObserver | undefined, report: WarmupReport): void {
  if (!observer) return;
  if (observer.warmupFinished) observer.warmupFinished(report);
  else observer.warmup(report.modelPath, report.status === 'OK', report.micros);
}

/**
 * The servable being loaded, as the API functions expect a server: every model spec resolves to
 * it (the warmup log's model name and version do not matter, as in TF Serving).
 */
function servableCore(servable: LoadedServable, version: VersionToLoad): ServingCore {
  const handle: ServableHandle = {
    name: version.model,
    version: version.version,
    engine: servable.engine,
    signatureDefs: servable.signatureDefs,
    signatures: servable.engine.signatures,
    release: () => undefined,
  };
  const notServing = (): never => {
    throw failedPrecondition(`Version ${version.version} of model ${version.model} is warming up`);
  };
  return { acquire: () => handle, modelStatus: notServing, listModels: () => [], isReady: () => false };
}
