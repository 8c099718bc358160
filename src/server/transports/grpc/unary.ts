/**
 * One wrapper for every unary RPC: answers malformed requests, maps errors through toGrpcStatus
 * and reports each call to the observer (TF Serving's request_count / request_latency).
 */
import type { Metadata, handleUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { context as otelContext } from '@opentelemetry/api';
import { type TracedRequest, endRequestSpan, startRequestSpan } from '../../tracing/tracing.js';
import type { ModelConfigReloader, RequestKeys, ServingCore } from '../../core/types.js';
import { Code, ServingError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import type { ApiName, ServingObserver } from '../../observability.js';
import type { InflightBytes } from '../inflight-bytes.js';
import type { AdminToken } from '../../admin-token.js';
import { bigCallTurn } from './big-call-turns.js';
import type { BigRequestMethod, ConvertedRequests } from './big-requests.js';
import { MalformedRequest, RECORDED_FROM_BYTES, type Received, receivedBytesOf } from './codec.js';
import { type GrpcOffload, ON_THE_EVENT_LOOP } from './offload.js';
import { type GrpcErrorStatus, codeOf, toGrpcStatus } from './status.js';

const YIELD_FROM_BYTES = 64 * 1024;

/** What the service implementations share. */
export interface ServiceContext {
  readonly core: ServingCore;
  readonly reloader: ModelConfigReloader;
  readonly observer: ServingObserver;
  readonly logger?: Logger;
  /** --enable_serialization_as_tensor_content: Predict outputs in tensor_content. */
  readonly predictTensorContent?: boolean;
  /** --admin_token_file: model management calls (UnaryMethod.admin) need it. Absent: open, as TF Serving. */
  readonly adminToken?: AdminToken;
  /** The request-bytes budget shared with REST (--max_inflight_request_bytes): RESOURCE_EXHAUSTED when over. */
  readonly inflightBytes?: InflightBytes;
  /** Where big Predict/ModelInfer messages are converted and encoded (absent: on the event loop). */
  readonly offload?: GrpcOffload;
}

export interface UnaryMethod<Req, Res> {
  /** Absent: the call is not reported (health checks). */
  readonly api?: ApiName;
  /** Model management: needs the admin token when the server has one (what the error calls it). */
  readonly admin?: string;
  /** The model a request is for (metrics label); '' when there is none. */
  readonly modelOf: (request: NoInfer<Req>) => string;
  /** The version label and signature a request names (metrics labels), when the method has them. */
  readonly factsOf?: (request: NoInfer<Req>) => { readonly label?: string | undefined; readonly signature?: string | undefined };
  /** `keys`: the call's metadata, for routing. */
  readonly handle: (request: Req, keys: RequestKeys) => Promise<Res>;
}

/** Routing reads a call's metadata (first value of a lower-case key; binary keys are skipped). */
class MetadataKeys implements RequestKeys {
  version: bigint | undefined = undefined;

  constructor(private readonly metadata: Metadata) {}

  onVersion(version: bigint): void {
    this.version = version;
  }

  keyValue(name: string): string | undefined {
    const value = this.metadata.get(name)[0];
    return typeof value === 'string' ? value : undefined;
  }
}

/** The version a response reports in its model_spec (the version that answered). */
function answeredVersion(response: unknown): bigint | undefined {
  const choice = (response as { modelSpec?: { versionChoice?: { case?: string; value?: { value?: unknown } } } } | undefined)?.modelSpec?.versionChoice;
  return choice?.case === 'version' && typeof choice.value?.value === 'bigint' ? choice.value.value : undefined;
}

const METADATA_GETTER = {
  get: (metadata: Metadata, key: string) => {
    const values = metadata.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
  keys: (metadata: Metadata) => Object.keys(metadata.getMap()),
};

/** A call's request: its size on the wire (0: not counted) and how to get it decoded. */
interface Incoming<Req> {
  readonly bytes: number;
  readonly receive: () => Received<Req> | Promise<Received<Req>>;
}

export function unaryHandler<Req, Res>(context: ServiceContext, method: UnaryMethod<Req, Res>): handleUnaryCall<Received<Req>, Res> {
  return function onUnaryCall(call, callback) {
    const request = call.request;
    serveTraced(context, method, call, { bytes: receivedBytesOf(request as object), receive: () => request }, callback);
  };
}

/**
 * A method whose request grpc-js hands over as its bytes (service-definitions.ts, `raw`): they
 * are counted against the in-flight budget first, then decoded and converted (big-requests.ts),
 * in a worker when big (offload.ts).
 */
export function bigRequestHandler<M extends BigRequestMethod, Res>(
  context: ServiceContext,
  kind: M,
  method: UnaryMethod<ConvertedRequests[M], Res>,
): handleUnaryCall<Buffer, Res> {
  return function onUnaryCall(call, callback) {
    const bytes = call.request;
    const counted = bytes.byteLength >= RECORDED_FROM_BYTES ? bytes.byteLength : 0;
    const receive = (): Promise<Received<ConvertedRequests[M]>> => offloadOf(context).convert(kind, bytes, () => call.cancelled);
    serveTraced(context, method, call, { bytes: counted, receive }, callback);
  };
}

const offloadOf = (context: ServiceContext): GrpcOffload => context.offload ?? ON_THE_EVENT_LOOP;

function serveTraced<Req, Res>(
  context: ServiceContext,
  method: UnaryMethod<Req, Res>,
  call: { readonly metadata: Metadata; getPath(): string },
  incoming: Incoming<Req>,
  callback: sendUnaryData<Res>,
): void {
  const traced = method.api === undefined ? undefined : startRequestSpan(`GRPC ${method.api}`, call.metadata, METADATA_GETTER, () => ({ 'rpc.system': 'grpc', 'rpc.method': call.getPath() }));
  const served = traced
    ? otelContext.with(traced.context, () => serveUnary(context, method, incoming, call.metadata, callback, performance.now(), traced))
    : serveUnary(context, method, incoming, call.metadata, callback, performance.now(), undefined);
  served.catch((error: unknown) => {
    // Only the observer or grpc-js itself can get here; never let it become an unhandled rejection.
    context.logger?.error('grpc_call_bookkeeping_failed', { api: method.api, error: String(error) });
  });
}

async function serveUnary<Req, Res>(
  context: ServiceContext,
  method: UnaryMethod<Req, Res>,
  incoming: Incoming<Req>,
  metadata: Metadata,
  callback: sendUnaryData<Res>,
  started: number,
  traced: TracedRequest | undefined,
): Promise<void> {
  let model = '';
  let facts: { readonly label?: string | undefined; readonly signature?: string | undefined } | undefined;
  let response: Res | undefined;
  let failure: GrpcErrorStatus | undefined;
  let held = 0;
  const keys = new MetadataKeys(metadata);
  try {
    if (method.admin !== undefined) context.adminToken?.check(metadata.get('authorization').map(String), method.admin);
    const { bytes } = incoming;
    if (bytes > 0 && context.inflightBytes) {
      if (!context.inflightBytes.tryHold(bytes)) throw context.inflightBytes.refusal(bytes);
      held = bytes;
    }
    // A big message is decoded (on the loop, or sent to a worker), converted and run in a later
    // turn, one big call per turn (big-call-turns.ts): probes and calls waiting for the loop go first.
    if (bytes >= YIELD_FROM_BYTES) await bigCallTurn();
    const request = await incoming.receive();
    if (request instanceof MalformedRequest) throw request.error;
    model = method.modelOf(request);
    facts = method.factsOf?.(request);
    // The trace context is synchronous (tracing/sync-context-manager.ts) and the awaits above
    // (the decode, the turn) left it: entered again for the run, so its spans keep their request.
    const handle = (): Promise<Res> => method.handle(request, keys);
    response = await (traced ? otelContext.with(traced.context, handle) : handle());
  } catch (error) {
    failure = toGrpcStatus(error);
    if (!(error instanceof ServingError)) {
      context.logger?.error('grpc_unexpected_error', { api: method.api, model, error: error instanceof Error ? error.stack : String(error) });
    }
  }
  // Outside the try: a throwing callback must not be answered twice.
  if (held > 0) context.inflightBytes?.release(held);
  if (failure) callback(failure);
  else callback(null, response);
  if (traced) endRequestSpan(traced, failure ? codeOf(failure) : Code.OK, { 'tfmodel.model': model, 'tfmodel.signature': facts?.signature, 'tfmodel.version_label': facts?.label });
  if (method.api === undefined) return;
  const version = keys.version ?? (failure ? undefined : answeredVersion(response));
  context.observer.request({
    model,
    api: method.api,
    entrypoint: 'GRPC',
    status: failure ? codeOf(failure) : Code.OK,
    latencyMicros: Math.round((performance.now() - started) * 1000),
    ...(facts?.label !== undefined ? { label: facts.label } : {}),
    ...(facts?.signature !== undefined ? { signature: facts.signature } : {}),
    ...(version !== undefined ? { version } : {}),
  });
}
