/**
 * What the profiler can honestly trace in this server: every request (gRPC and REST, with model,
 * API and status), the time its model run took, and batching queue waits, as reported to the
 * ServingObserver. Spans are kept only while a profiling session is open; otherwise recording
 * costs one check per event.
 */
import type { ApiName, RequestEvent, ServingObserver } from '../observability.js';
import { Code } from '../errors.js';

export type SpanKind = 'request' | 'runtime' | 'batch_queue';

export interface Span {
  readonly kind: SpanKind;
  /** What the trace viewer shows on the event, e.g. "Predict half_plus_two". */
  readonly name: string;
  /** Wall-clock start, nanoseconds since the epoch. */
  readonly startNs: bigint;
  readonly durationNs: bigint;
  readonly stats: Readonly<Record<string, string | number>>;
}

/** One open profiling session: collects until closed, at most `maxEvents` spans. */
export class TraceSession {
  readonly spans: Span[] = [];
  dropped = 0;

  constructor(readonly maxEvents: number) {}

  add(span: Span): void {
    if (this.spans.length < this.maxEvents) this.spans.push(span);
    else this.dropped++;
  }
}

const API_DISPLAY: Record<ApiName, string> = {
  predict: 'Predict',
  classify: 'Classify',
  regress: 'Regress',
  multi_inference: 'MultiInference',
  get_model_metadata: 'GetModelMetadata',
  get_model_status: 'GetModelStatus',
  reload_config: 'HandleReloadConfigRequest',
  model_infer: 'ModelInfer',
  model_metadata: 'ModelMetadata',
  repository_index: 'RepositoryIndex',
  repository_load: 'RepositoryModelLoad',
  repository_unload: 'RepositoryModelUnload',
};

/** Nanoseconds since the epoch, with sub-millisecond resolution. */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

export class TraceRecorder implements Pick<ServingObserver, 'request' | 'runtime' | 'batchQueuing'> {
  private readonly sessions = new Set<TraceSession>();

  open(maxEvents: number): TraceSession {
    const session = new TraceSession(maxEvents);
    this.sessions.add(session);
    return session;
  }

  close(session: TraceSession): void {
    this.sessions.delete(session);
  }

  request(event: RequestEvent): void {
    if (this.sessions.size === 0) return;
    const name = event.model ? `${API_DISPLAY[event.api]} ${event.model}` : API_DISPLAY[event.api];
    this.record('request', name, event.latencyMicros, {
      entrypoint: event.entrypoint,
      model_name: event.model,
      api: event.api,
      status: Code[event.status] ?? String(event.status),
    });
  }

  runtime(model: string, api: ApiName, micros: number): void {
    if (this.sessions.size === 0) return;
    this.record('runtime', `Run ${model}`, micros, { model_name: model, api });
  }

  batchQueuing(threadPoolName: string, micros: number): void {
    if (this.sessions.size === 0) return;
    this.record('batch_queue', `Queued (${threadPoolName})`, micros, { thread_pool_name: threadPoolName });
  }

  /** The event ended now and lasted `micros`. */
  private record(kind: SpanKind, name: string, micros: number, stats: Record<string, string | number>): void {
    const durationNs = BigInt(Math.max(0, Math.round(micros * 1000)));
    const span: Span = { kind, name, startNs: nowNs() - durationNs, durationNs, stats };
    for (const session of this.sessions) session.add(span);
  }
}
