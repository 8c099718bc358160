/**
 * GET /tfmodel/routing: the routing config as JSON. PUT (or POST) /tfmodel/routing with the
 * config as the body: validated and applied as a whole, answered with the applied config; errors
 * in TF Serving's format (400 for a malformed config, 400 FAILED_PRECONDITION for a version not
 * AVAILABLE), the previous routing kept.
 */
import { Code, toServingError, unimplemented } from '../../errors.js';
import { readBody } from './body.js';
import { type RestRequest, answer, answerError } from './exchange.js';
import { errorJson } from './errors.js';

export function serveRouting(req: RestRequest): void {
  const admin = req.context.routing;
  if (!admin) return answerError(req, unimplemented('Routing is not enabled on this server'));
  if (req.method === 'GET') return answer(req, Code.OK, admin.get());
  if (req.method === 'PUT' || req.method === 'POST') {
    // Changing the routing is model management: it needs the admin token when the server has one.
    try {
      req.context.adminToken?.check(req.headers.authorization, 'Setting the routing');
    } catch (error) {
      return answerError(req, toServingError(error));
    }
    return readBody(req, applyRouting);
  }
  answer(req, Code.INVALID_ARGUMENT, errorJson(`Malformed request: ${req.method ?? ''} ${req.route.path}`), 405);
}

function applyRouting(req: RestRequest, text: string): void {
  let body: string;
  try {
    body = req.context.routing!.set(text);
  } catch (error) {
    const failure = toServingError(error);
    req.context.logger?.warn('routing_rejected', { error: failure.toString() });
    return answerError(req, failure);
  }
  req.context.logger?.info('routing_set', { via: 'REST' });
  answer(req, Code.OK, body);
}
