/**
 * The REST server: a node:http front that routes every request itself and serves the hot paths
 * (:predict, :classify, :regress, GET status) directly, delegating everything else to an express
 * app (express on the hot path costs 2-3x in throughput, measured by npm run bench:server). Per request the
 * hot path allocates the route and the state fields on the request object; listeners and timer
 * callbacks are shared functions, not closures.
 */
import { type Server, type ServerResponse, createServer, maxHeaderSize } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ServingCore } from '../../core/types.js';
import { Code, toServingError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import { NO_OBSERVER, type ServingObserver } from '../../observability.js';
import { type RequestFacts, restClassify, restPredict, restRegress, restStatus } from './api-calls.js';
import { readRawBody } from './body.js';
import { DEFAULT_JSON_OFFLOAD_BYTES, JsonOffload, type JsonOffloadOptions, defaultJsonThreads } from './json-offload.js';
import { onClientError } from './client-errors.js';
import { type MetricsEndpoint, type RestContext, RestRequest, answer, answerError, failed, inRequestContext, onRequestTimeout, sendJson, traceRequest } from './exchange.js';
import { modelsJson, readinessJson } from './responses.js';
import { createExpressApp } from './express-app.js';
import { type Route, routeOf } from './router.js';
import type { ModelRepository } from '../../api/oip/repository.js';
import { serveOip } from './oip/oip-handler.js';
import type { InflightBytes } from '../inflight-bytes.js';
import type { AdminToken } from '../../admin-token.js';
import { serveRouting } from './routing-handler.js';
import type { RoutingAdmin } from '../../routing/routing-admin.js';

export interface RestServerOptions {
  readonly core: ServingCore;
  readonly observer?: ServingObserver;
  /** --rest_api_enable_cors_support: Access-Control-Allow-* headers on every answer. */
  readonly corsEnabled?: boolean;
  /** --rest_api_timeout_in_ms (default 30000; <= 0: none): 504 when an API call runs longer. */
  readonly timeoutMs?: number;
  /** Largest request body, compressed or not (default 64 MiB): 413 beyond. */
  readonly maxBodyBytes?: number;
  /** The request-bytes budget shared with gRPC (--max_inflight_request_bytes): 429 when over. */
  readonly inflightBytes?: InflightBytes;
  /** --admin_token_file: repository load/unload need `Authorization: Bearer <token>`. */
  readonly adminToken?: AdminToken;
  /** Served on the REST port (TF Serving's Prometheus endpoint). */
  readonly metrics?: MetricsEndpoint;
  /** The Open Inference Protocol's model repository extension (/v2/repository/...); absent: 501. */
  readonly repository?: ModelRepository;
  /** GET|PUT /tfmodel/routing (the routing config); absent: 501. */
  readonly routing?: RoutingAdmin;
  readonly logger?: Logger;
  /**
   * Where big predict bodies are parsed and converted and big responses written (default: a few
   * worker threads, from 16 KiB on; threads 0: on the event loop).
   */
  readonly json?: Partial<JsonOffloadOptions>;
}

export interface RestServer {
  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting connections and resolves once the requests in flight are answered. */
  close(): Promise<void>;
}

export const DEFAULT_REST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

type ApiCall = (core: ServingCore, route: Route, body: Buffer, facts: RequestFacts, json: JsonOffload) => Promise<string>;

export function createRestServer(options: RestServerOptions): RestServer {
  const context: RestContext = {
    core: options.core,
    observer: options.observer ?? NO_OBSERVER,
    corsEnabled: options.corsEnabled ?? false,
    timeoutMs: options.timeoutMs ?? DEFAULT_REST_TIMEOUT_MS,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    metrics: options.metrics,
    routing: options.routing,
    logger: options.logger,
    inflightBytes: options.inflightBytes,
    adminToken: options.adminToken,
    json: new JsonOffload({
      threads: options.json?.threads ?? defaultJsonThreads(),
      minBytes: options.json?.minBytes ?? DEFAULT_JSON_OFFLOAD_BYTES,
      workers: options.json?.workers,
    }),
    inflight: 0,
    closing: false,
    onDrained: undefined,
  };
  const app = createExpressApp(context);
  const exactPaths = new Set(options.metrics ? [options.metrics.path] : []);
  const server = createServer<typeof RestRequest>({ IncomingMessage: RestRequest }, (req, res) => {
    req.context = context;
    req.response = res;
    req.startedAt = performance.now();
    context.inflight++;
    res.on('close', onResponseClose);
    try {
      const route = routeOf(req.method ?? '', req.url ?? '/', exactPaths);
      req.route = route;
      switch (route.kind) {
        case 'predict':
        case 'classify':
        case 'regress':
          return startApiCall(req);
        case 'status':
          return answerStatus(req);
        case 'oip':
          return serveOip(req, options.repository);
        case 'models':
          return sendJson(context, res, 200, modelsJson(context.core.listModels()));
        case 'routing':
          return serveRouting(req);
        default:
          // Probes are answered here, before express: no middleware between them and the answer.
          if (req.method === 'GET' || req.method === 'HEAD') {
            if (route.path === '/healthz') return sendJson(context, res, 200, '{"alive":true}');
            if (route.path === '/readyz') return answerReadiness(req);
          }
          return void app(req, res);
      }
    } catch (error) {
      failed(req, error);
    }
  });
  server.on('clientError', (error: Error, socket: Socket) => onClientError(error, socket, maxHeaderSize));
  let closing: Promise<void> | undefined;
  return {
    listen: (port, host) => listen(server, port, host),
    close: () => (closing ??= close(server, context)),
  };
}

function startApiCall(req: RestRequest): void {
  req.api = req.route.kind as 'predict' | 'classify' | 'regress';
  traceRequest(req);
  if (req.route.error) return answerError(req, req.route.error);
  const timeoutMs = req.context.timeoutMs;
  if (timeoutMs > 0) req.timer = setTimeout(onRequestTimeout, timeoutMs, req);
  readRawBody(req, runApiCall);
}

const API_CALLS: Readonly<Record<'predict' | 'classify' | 'regress', ApiCall>> = {
  predict: restPredict,
  classify: restClassify,
  regress: restRegress,
};

async function runApiCall(req: RestRequest, requestBody: Buffer): Promise<void> {
  let body: string;
  try {
    const call = API_CALLS[req.route.kind as 'predict' | 'classify' | 'regress'];
    body = await inRequestContext(req, () => call(req.context.core, req.route, requestBody, req, req.context.json));
  } catch (error) {
    return answerError(req, toServingError(error));
  }
  try {
    answer(req, Code.OK, body);
  } catch (error) {
    failed(req, error);
  }
}

function answerStatus(req: RestRequest): void {
  req.api = 'get_model_status';
  if (req.route.error) return answerError(req, req.route.error);
  let body: string;
  try {
    body = restStatus(req.context.core, req.route);
  } catch (error) {
    return answerError(req, toServingError(error));
  }
  answer(req, Code.OK, body);
}

function answerReadiness(req: RestRequest): void {
  const core = req.context.core;
  const ready = core.isReady();
  sendJson(req.context, req.response, ready ? 200 : 503, readinessJson(ready, ready ? [] : core.listModels()));
}

function onResponseClose(this: ServerResponse<RestRequest>): void {
  const req = this.req;
  // A request whose connection closed before we answered is not waited for any more.
  req.answered = true;
  if (req.timer !== undefined) clearTimeout(req.timer);
  req.chunks = undefined;
  req.unwatchChunks?.();
  req.unwatchChunks = undefined;
  const context = req.context;
  if (req.heldBytes > 0) {
    context.inflightBytes?.release(req.heldBytes);
    req.heldBytes = 0;
  }
  if (--context.inflight === 0 && context.closing) context.onDrained?.();
}

function listen(server: Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function close(server: Server, context: RestContext): Promise<void> {
  context.closing = true;
  const closed = server.listening
    ? new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
    : Promise.resolve();
  if (context.inflight > 0) await new Promise<void>((resolve) => (context.onDrained = resolve));
  // Connections that went idle after their last answer (answers while closing say Connection: close).
  server.closeIdleConnections();
  await closed;
  await context.json.close();
}
