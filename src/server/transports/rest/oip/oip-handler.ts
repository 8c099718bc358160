/**
 * Serves the Open Inference Protocol's REST paths on TF Serving's REST port: each call converts,
 * calls its api/oip function, and answers through the same exchange as TF Serving's calls (status
 * codes from the error's gRPC code, `{"error": ...}` bodies, timeouts, metrics). Health and
 * readiness answer with the status the protocol defines (200 true, 400 false) and, for clients
 * that read a body (KServe's SDK), `{"live": true}` / `{"ready": bool}`.
 */
import { infer } from '../../../api/oip/infer.js';
import { modelMetadata, modelReady, serverMetadata } from '../../../api/oip/metadata.js';
import type { ModelRepository } from '../../../api/oip/repository.js';
import { Code, type ServingError, invalidArgument, toServingError, unimplemented } from '../../../errors.js';
import { readRawBody } from '../body.js';
import { type RestRequest, answer, answerError, answerWith, failed, inRequestContext, onRequestTimeout, traceRequest } from '../exchange.js';
import { isJsonObject, member, parseBody } from '../json-parse.js';
import { Route } from '../router.js';
import { HEADER_LENGTH_HEADER, parseInferRequest } from './infer-request.js';
import { inferResponse } from './infer-response.js';
import { type OipRoute, oipRouteOf } from './oip-router.js';

const JSON_TYPE = ['Content-Type', 'application/json'];

export function serveOip(req: RestRequest, repository: ModelRepository | undefined): void {
  const oip = oipRouteOf(req.method ?? '', req.route.path);
  req.route = new Route('oip', req.route.path, oip.model, undefined, undefined, oip.error);
  switch (oip.kind) {
    case 'server_live':
      return answerWith(req, Code.OK, 200, JSON_TYPE, '{"live":true}');
    case 'server_ready': {
      const ready = req.context.core.isReady();
      return answerWith(req, Code.OK, ready ? 200 : 400, JSON_TYPE, `{"ready":${ready}}`);
    }
    case 'server_metadata':
      return answer(req, Code.OK, JSON.stringify(serverMetadata()));
    case 'model_ready': {
      const ready = modelReady(req.context.core, oip.model, oip.version);
      return answerWith(req, Code.OK, ready ? 200 : 400, JSON_TYPE, `{"name":${JSON.stringify(oip.model)},"ready":${ready}}`);
    }
    case 'model_metadata':
      req.api = 'model_metadata';
      return void answerMetadata(req, oip);
    case 'model_infer':
      req.api = 'model_infer';
      traceRequest(req);
      return startBodyCall(req, (body) => inRequestContext(req, () => runInfer(req, oip, body)));
    case 'repository_index':
    case 'repository_load':
    case 'repository_unload':
      req.api = oip.kind;
      if (!repository) return answerError(req, unimplemented('the model repository extension is not enabled on this server'));
      if (oip.kind !== 'repository_index' && req.context.adminToken) {
        try {
          req.context.adminToken.check(req.headers.authorization, oip.kind === 'repository_load' ? 'Repository load' : 'Repository unload');
        } catch (error) {
          return answerError(req, toServingError(error));
        }
      }
      return startBodyCall(req, (body) => runRepository(req, oip, repository, body));
    default:
      return answerError(req, oip.error!);
  }
}

function startBodyCall(req: RestRequest, run: (body: Buffer) => Promise<void>): void {
  const timeoutMs = req.context.timeoutMs;
  if (timeoutMs > 0) req.timer = setTimeout(onRequestTimeout, timeoutMs, req);
  readRawBody(req, (_req, body) => {
    run(body).catch((error: unknown) => failed(req, error));
  });
}

async function runInfer(req: RestRequest, route: OipRoute, body: Buffer): Promise<void> {
  let response;
  try {
    const headerLength = req.headers[HEADER_LENGTH_HEADER];
    const parsed = parseInferRequest(route.model, route.version, body, typeof headerLength === 'string' ? headerLength : undefined);
    req.signature = parsed.request.signatureName || 'serving_default';
    response = inferResponse(await infer(req.context.core, parsed.request, req), parsed);
  } catch (error) {
    return answerError(req, toServingError(error));
  }
  if (response.headerLength === undefined) return answer(req, Code.OK, response.body as string);
  answerWith(req, Code.OK, 200, ['Content-Type', 'application/octet-stream', 'Inference-Header-Content-Length', String(response.headerLength)], response.body);
}

async function answerMetadata(req: RestRequest, route: OipRoute): Promise<void> {
  let body: string;
  try {
    body = JSON.stringify(await modelMetadata(req.context.core, route.model, route.version));
  } catch (error) {
    return answerError(req, toServingError(error));
  }
  answer(req, Code.OK, body);
}

async function runRepository(req: RestRequest, route: OipRoute, repository: ModelRepository, body: Buffer): Promise<void> {
  try {
    if (route.kind === 'repository_index') {
      const text = body.toString('utf8').trim();
      const doc = text === '' ? {} : parseBody(text, false).doc;
      const ready = member(doc, 'ready');
      if (ready !== undefined && typeof ready !== 'boolean') throw invalidArgument("'ready' must be a boolean");
      return answer(req, Code.OK, JSON.stringify(repository.index(ready === true)));
    }
    const text = body.toString('utf8').trim();
    if (text !== '' && !isJsonObject(parseBody(text, false).doc)) throw invalidArgument('the request body must be a JSON object');
    if (route.kind === 'repository_load') await repository.load(route.model);
    else await repository.unload(route.model);
    answerWith(req, Code.OK, 200, JSON_TYPE, '{}');
  } catch (error) {
    answerError(req, toServingError(error) as ServingError);
  }
}
