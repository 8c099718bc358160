/**
 * The Open Inference Protocol's REST paths, as one pure function from (method, path) to a route:
 *   GET  /v2/health/live | /v2/health/ready | /v2
 *   GET  /v2/models/{m}[/versions/{v}]          model metadata
 *   GET  /v2/models/{m}[/versions/{v}]/ready    model readiness
 *   POST /v2/models/{m}[/versions/{v}]/infer    inference
 *   POST /v2/repository/index | /v2/repository/models/{m}/(load|unload)   (Triton's extension)
 * Model names and versions are URL-decoded; a version may be a TF Serving label.
 */
import { type ServingError, notFound } from '../../../errors.js';
import { urlUnescape } from '../router.js';

export type OipRouteKind =
  | 'server_live' | 'server_ready' | 'server_metadata'
  | 'model_metadata' | 'model_ready' | 'model_infer'
  | 'repository_index' | 'repository_load' | 'repository_unload'
  | 'not_found';

export interface OipRoute {
  readonly kind: OipRouteKind;
  readonly model: string;
  readonly version: string;
  readonly error?: ServingError;
}

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer))?$/;
const REPOSITORY_MODEL_PATH = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;

export const isOipPath = (path: string): boolean => path === '/v2' || path.startsWith('/v2/');

export function oipRouteOf(method: string, path: string): OipRoute {
  if (method === 'GET') {
    if (path === '/v2/health/live') return route('server_live');
    if (path === '/v2/health/ready') return route('server_ready');
    if (path === '/v2' || path === '/v2/') return route('server_metadata');
  }
  if (method === 'POST' && path === '/v2/repository/index') return route('repository_index');
  const model = MODEL_PATH.exec(path);
  if (model) {
    const [, name, version, action] = model;
    const kind = action === 'infer' ? 'model_infer' : action === 'ready' ? 'model_ready' : 'model_metadata';
    if ((kind === 'model_infer') === (method === 'POST') && (method === 'GET' || method === 'POST')) {
      return route(kind, urlUnescape(name!), version === undefined ? '' : urlUnescape(version));
    }
  }
  const repository = REPOSITORY_MODEL_PATH.exec(path);
  if (repository && method === 'POST') {
    return route(repository[2] === 'load' ? 'repository_load' : 'repository_unload', urlUnescape(repository[1]!));
  }
  return { kind: 'not_found', model: '', version: '', error: notFound(`Not Found: ${method} ${path} is not an Open Inference Protocol endpoint`) };
}

function route(kind: OipRouteKind, model = '', version = ''): OipRoute {
  return { kind, model, version };
}
