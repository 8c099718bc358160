/**
 * Per-server settings and per-request state, and the one way an API call is answered: JSON body,
 * HTTP status from the gRPC code, CORS headers, the observer's request event, the timeout cleared.
 * The request state lives on the IncomingMessage itself (a subclass handed to node:http), so the
 * hot path needs no per-request state object and no closures for its listeners and timer.
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { RequestKeys, ServingCore } from '../../core/types.js';
import { Code, type ServingError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import type { ApiName, ServingObserver } from '../../observability.js';
import { errorJson, httpStatusOf } from './errors.js';
import { type TracedRequest, endRequestSpan, startRequestSpan } from '../../tracing/tracing.js';
import { context as otelContext } from '@opentelemetry/api';
import type { Route } from './router.js';
import type { InflightBytes } from '../inflight-bytes.js';
import type { JsonOffload } from './json-offload.js';
import type { AdminToken } from '../../admin-token.js';
import type { RoutingAdmin } from '../../routing/routing-admin.js';

export interface MetricsEndpoint {
  readonly path: string;
  render(): Promise<{ contentType: string; body: string }>;
}

export interface RestContext {
  readonly core: ServingCore;
  readonly observer: ServingObserver;
  readonly corsEnabled: boolean;
  /** <= 0: no timeout. */
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly metrics: MetricsEndpoint | undefined;
  /** GET|PUT /tfmodel/routing; absent: 501. */
  readonly routing: RoutingAdmin | undefined;
  readonly logger: Logger | undefined;
  /** --admin_token_file: repository load/unload need it. Absent: open, as TF Serving. */
  readonly adminToken: AdminToken | undefined;
  /** The request-bytes budget shared with gRPC (--max_inflight_request_bytes); absent: none. */
  readonly inflightBytes: InflightBytes | undefined;
  /** Where predict JSON is parsed, converted and written (the event loop or worker threads). */
  readonly json: JsonOffload;
  /** Requests not yet answered (or whose connection has not closed). */
  inflight: number;
  /** Set by close(): answers carry `Connection: close`. */
  closing: boolean;
  /** Called when inflight drops to 0 while closing. */
  onDrained: (() => void) | undefined;
}

/** The response header naming the version that answered an API call (after routing). */
export const VERSION_HEADER = 'X-TFModel-Version';

export class RestRequest extends IncomingMessage implements RequestKeys {
  context!: RestContext;
  response!: ServerResponse<RestRequest>;
  route!: Route;
  /** The API the request calls, for the observer; undefined for other paths. */
  api: ApiName | undefined = undefined;
  startedAt = 0;
  answered = false;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Body chunks while reading; undefined once done (or refused). */
  chunks: Buffer[] | undefined = undefined;
  received = 0;
  /** Bytes this request holds in the in-flight budget (released when its response closes). */
  heldBytes = 0;
  /** The whole declared Content-Length was held before reading (else chunks are held as they come). */
  heldUpfront = false;
  /** The body was not valid UTF-8: the text handed on holds its bytes one per character. */
  latin1Body = false;
  /** Stops watching a chunked body's framing (chunk-sizes.ts), while one is watched. */
  unwatchChunks: (() => void) | undefined = undefined;
  /** Gets the body once read (a function shared by all requests). */
  onBody: BodyHandler | undefined = undefined;
  /** Set instead of onBody when the bytes are wanted as they are (binary tensor data). */
  onRawBody: RawBodyHandler | undefined = undefined;
  /** The signature an API call ran (metrics), once the call has read it. */
  signature: string | undefined = undefined;
  /** The request's span, when tracing is on and the request is sampled. */
  traced: TracedRequest | undefined = undefined;
  /** The version that answered an API call, once the call has acquired it. */
  version: bigint | undefined = undefined;

  onVersion(version: bigint): void {
    this.version = version;
  }

  /** Routing's request key: the first value of a header. */
  keyValue(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }
}

const HEADER_GETTER = {
  get: (headers: IncomingMessage['headers'], key: string) => headers[key],
  keys: (headers: IncomingMessage['headers']) => Object.keys(headers),
};

/** Starts the request's span (a no-op when tracing is off): call when the API is known. */
export function traceRequest(req: RestRequest): void {
  req.traced = startRequestSpan(`REST ${req.api ?? 'request'}`, req.headers, HEADER_GETTER, () => ({
    'http.request.method': req.method ?? '',
    'url.path': req.route.path,
    'tfmodel.model': req.route.model,
  }));
}

/** Runs an API call in its request's trace context (or plainly when untraced). */
export function inRequestContext<T>(req: RestRequest, work: () => T): T {
  return req.traced ? otelContext.with(req.traced.context, work) : work();
}

export type BodyHandler = (req: RestRequest, text: string) => void;
export type RawBodyHandler = (req: RestRequest, body: Buffer) => void;

const JSON_TYPE = 'application/json';
const CORS_HEADERS = [
  'Access-Control-Allow-Origin', '*',
  'Access-Control-Allow-Methods', 'POST, GET',
  'Access-Control-Allow-Headers', 'Content-Type, Content-Encoding',
];

/** Writes a complete response. */
export function send(context: RestContext, res: ServerResponse, status: number, contentType: string | undefined, body: string, close = false, version?: bigint): void {
  const headers: string[] = [];
  if (contentType !== undefined) headers.push('Content-Type', contentType);
  if (version !== undefined) headers.push(VERSION_HEADER, String(version));
  headers.push('Content-Length', String(Buffer.byteLength(body)));
  if (context.corsEnabled) headers.push(...CORS_HEADERS);
  if (close || context.closing) headers.push('Connection', 'close');
  res.writeHead(status, headers);
  res.end(body);
}

export function sendJson(context: RestContext, res: ServerResponse, status: number, body: string, close = false): void {
  send(context, res, status, JSON_TYPE, body, close);
}

/**
 * Answers an API call once (a late result after a timeout is dropped) and reports it. `httpStatus`
 * overrides the status the code maps to (413 and 415 are transport statuses with no gRPC code).
 */
export function answer(req: RestRequest, code: Code, body: string, httpStatus?: number, close = false): void {
  if (req.answered) return;
  send(req.context, req.response, httpStatus ?? httpStatusOf(code), JSON_TYPE, body, close, req.version);
  finishAnswer(req, code);
}

/**
 * Answers with a body that is not JSON text (or needs extra headers): the same once-only rule and
 * bookkeeping as answer().
 */
export function answerWith(req: RestRequest, code: Code, httpStatus: number, headers: readonly string[], body: string | Buffer): void {
  if (req.answered) return;
  const context = req.context;
  const all = [...headers, 'Content-Length', String(Buffer.byteLength(body))];
  if (context.corsEnabled) all.push(...CORS_HEADERS);
  if (context.closing) all.push('Connection', 'close');
  req.response.writeHead(httpStatus, all);
  req.response.end(body);
  finishAnswer(req, code);
}

function finishAnswer(req: RestRequest, code: Code): void {
  req.answered = true;
  if (req.timer !== undefined) clearTimeout(req.timer);
  if (req.traced) {
    endRequestSpan(req.traced, code, { 'http.response.status_code': String(req.response.statusCode), 'tfmodel.signature': req.signature });
    req.traced = undefined;
  }
  if (req.api !== undefined) {
    req.context.observer.request({
      model: req.route.model,
      api: req.api,
      entrypoint: 'REST',
      status: code,
      latencyMicros: Math.round((performance.now() - req.startedAt) * 1000),
      ...(req.route.label !== undefined ? { label: req.route.label } : {}),
      ...(req.signature !== undefined ? { signature: req.signature } : {}),
      ...(req.version !== undefined ? { version: req.version } : {}),
    });
  }
}

export function answerError(req: RestRequest, error: ServingError, httpStatus?: number, close = false): void {
  if (error.code === Code.INTERNAL || error.code === Code.UNKNOWN || error.code === Code.DATA_LOSS) {
    req.context.logger?.error('rest_request_failed', { method: req.method, path: req.route.path, error: error.toString() });
  }
  answer(req, error.code, errorJson(error.message), httpStatus, close);
}

/** Timer callback (no closure): the request ran past --rest_api_timeout_in_ms. */
export function onRequestTimeout(req: RestRequest): void {
  req.timer = undefined;
  if (req.answered) return;
  req.chunks = undefined;
  req.context.logger?.warn('rest_request_timeout', { method: req.method, path: req.route.path, timeout_ms: req.context.timeoutMs });
  answer(req, Code.DEADLINE_EXCEEDED, errorJson(`Request timed out after ${req.context.timeoutMs} ms (--rest_api_timeout_in_ms)`));
}

/** A bug on our side (not an API error): logged, and the connection dropped if nothing was sent. */
export function failed(req: RestRequest, error: unknown): void {
  req.context.logger?.error('rest_internal_failure', { method: req.method, url: req.url, error: String(error) });
  req.answered = true;
  if (!req.response.headersSent) req.response.destroy();
}
