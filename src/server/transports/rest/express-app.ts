/**
 * The routes off the hot path, on express: model metadata, the model list, CORS preflight,
 * malformed /v1 requests, liveness, readiness, metrics and the plain 404. The node:http front
 * (server.ts) has already routed the request (TF Serving's grammar is not express's), so the /v1
 * handler dispatches on that route.
 */
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Code, toServingError } from '../../errors.js';
import { restMetadata } from './api-calls.js';
import { type MetricsEndpoint, type RestContext, type RestRequest, answer, answerError, failed, send, sendJson } from './exchange.js';
import { errorJson } from './errors.js';
import { readinessJson } from './responses.js';

export function createExpressApp(context: RestContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  app.use((req, _res, next) => v1Route(restRequest(req), next));
  const metrics = context.metrics;
  if (metrics) {
    app.use((req, _res, next) => {
      if (restRequest(req).route.path !== metrics.path) return next();
      void answerMetrics(restRequest(req), metrics);
    });
  }
  // The front answers /healthz and /readyz exactly; these catch express's variants (/HEALTHZ, /healthz/).
  app.get('/healthz', (_req, res) => sendJson(context, res, 200, '{"alive":true}'));
  app.get('/readyz', (_req, res) => {
    const ready = context.core.isReady();
    sendJson(context, res, ready ? 200 : 503, readinessJson(ready, ready ? [] : context.core.listModels()));
  });
  app.use((_req, res) => send(context, res, 404, 'text/plain; charset=utf-8', 'Not Found'));
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    context.logger?.error('rest_handler_failed', { path: req.path, error: String(error) });
    if (!res.headersSent) sendJson(context, res, 500, errorJson(toServingError(error).message));
  });
  return app;
}

/** The front stored its state on the request object, which express keeps (it only swaps the prototype). */
function restRequest(req: IncomingMessage): RestRequest {
  return req as RestRequest;
}

function v1Route(req: RestRequest, next: NextFunction): void {
  const { route } = req;
  switch (route.kind) {
    case 'metadata':
      req.api = 'get_model_metadata';
      if (route.error) return answerError(req, route.error);
      return void answerMetadata(req);
    case 'preflight':
      return preflight(req);
    case 'malformed':
      return answerError(req, route.error!);
    default:
      return next();
  }
}

async function answerMetadata(req: RestRequest): Promise<void> {
  let body: string;
  try {
    // Express swapped the request's prototype: facts and keys travel in an object of their own.
    const facts = { signature: undefined, keyValue: (name: string) => firstValue(req.headers[name]), onVersion: (version: bigint) => void (req.version = version) };
    body = await restMetadata(req.context.core, req.route, facts);
  } catch (error) {
    return answerError(req, toServingError(error));
  }
  try {
    answer(req, Code.OK, body);
  } catch (error) {
    failed(req, error);
  }
}

async function answerMetrics(req: RestRequest, metrics: MetricsEndpoint): Promise<void> {
  try {
    const page = await metrics.render();
    send(req.context, req.response, 200, page.contentType, page.body);
  } catch (error) {
    if (req.response.headersSent) return failed(req, error);
    send(req.context, req.response, 500, 'text/plain; charset=utf-8', `Failed to render metrics: ${String(error)}`);
  }
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** OPTIONS under /v1, as TF Serving answers it (whether or not CORS is enabled). */
function preflight(req: RestRequest): void {
  const origin = req.headers.origin;
  if (origin !== undefined && /https?:\/\//.test(origin)) send(req.context, req.response, 200, undefined, '');
  else answer(req, Code.FAILED_PRECONDITION, errorJson('Origin header is missing in CORS preflight'));
}
