/**
 * TF Serving's REST path grammar (model_servers/http_rest_api_util.cc), as one pure function from
 * (method, URL) to a Route. Paths are matched case-insensitively like TF Serving's RE2 patterns,
 * but the verb and the `metadata` subresource are compared exactly, as its dispatcher does (so
 * `:PREDICT` is a malformed request and `/METADATA` asks for the status).
 */
import { type ServingError, invalidArgument } from '../../errors.js';

export type RouteKind =
  /** POST .../{m}[/versions/{v}|/labels/{l}]:predict|classify|regress */
  | 'predict'
  | 'classify'
  | 'regress'
  /** GET /v1/models/{m}[/versions/{v}|/labels/{l}] */
  | 'status'
  /** GET .../metadata */
  | 'metadata'
  /** GET /v1/models: every model (beyond TF Serving, which answers "Missing model name"). */
  | 'models'
  /** OPTIONS under /v1 (CORS preflight). */
  | 'preflight'
  /** Anything else under /v1: 400 "Malformed request: <METHOD> <path>". */
  | 'malformed'
  /** Under /v2: the Open Inference Protocol (oip/oip-router.ts routes further). */
  | 'oip'
  /** /tfmodel/routing: GET or PUT the routing config (weighted labels, shadow). */
  | 'routing'
  /** Outside /v1 (health, readiness, metrics, plain 404). */
  | 'other';

/** One parsed request target. A class so that every route has the same shape. */
export class Route {
  constructor(
    readonly kind: RouteKind,
    /** The path without the query string. */
    readonly path: string,
    /** URL-decoded model name; '' when the path has none. */
    readonly model: string = '',
    readonly version: bigint | undefined = undefined,
    /** URL-decoded version label. */
    readonly label: string | undefined = undefined,
    /** Set when the path names an API call that must fail before running (bad version, ...). */
    readonly error: ServingError | undefined = undefined,
  ) {}
}

const V1_PREFIX = /^\/v1\//i;
/** Outside /v1 so TF Serving's grammar is untouched. */
export const ROUTING_PATH = '/tfmodel/routing';
const API_PATH = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?:(classify|regress|predict)$/i;
const STATUS_PATH = /^\/v1\/models(?:\/([^/:]+))?(?:\/versions\/(\d+)|\/labels\/([^/:]+))?(?:\/(metadata))?$/i;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Routes a request. `exactPaths` are served outside the TF grammar even under /v1 (the metrics
 * path: TF Serving registers it as a handler, which takes precedence over its /v1 dispatcher).
 */
export function routeOf(method: string, url: string, exactPaths?: ReadonlySet<string>): Route {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (exactPaths?.has(path)) return new Route('other', path);
  if (path === '/v2' || path.startsWith('/v2/')) return new Route('oip', path);
  if (path === ROUTING_PATH) return new Route('routing', path);
  if (!V1_PREFIX.test(path)) return new Route('other', path);
  if (method === 'POST') return apiRoute(path);
  if (method === 'GET') return statusRoute(path);
  if (method === 'OPTIONS') return new Route('preflight', path);
  return malformed(method, path);
}

function apiRoute(path: string): Route {
  const match = API_PATH.exec(path);
  if (!match) return malformed('POST', path);
  const verb = match[4]!;
  const kind = verb === 'predict' || verb === 'classify' || verb === 'regress' ? verb : undefined;
  return parsedRoute(kind, path, 'POST', match[1]!, match[2], match[3]);
}

function statusRoute(path: string): Route {
  const match = STATUS_PATH.exec(path);
  if (!match) return malformed('GET', path);
  const [, name, version, label, subresource] = match;
  if (name === undefined && version === undefined && label === undefined && subresource === undefined) {
    return new Route('models', path);
  }
  return parsedRoute(subresource === 'metadata' ? 'metadata' : 'status', path, 'GET', name ?? '', version, label);
}

/** Decodes the captured parts in TF Serving's order: model name, version, label; then dispatches. */
function parsedRoute(
  kind: RouteKind | undefined,
  path: string,
  method: string,
  rawName: string,
  rawVersion: string | undefined,
  rawLabel: string | undefined,
): Route {
  const model = urlUnescape(rawName);
  let version: bigint | undefined;
  if (rawVersion !== undefined) {
    version = BigInt(rawVersion);
    if (version > INT64_MAX) {
      return new Route(kind ?? 'malformed', path, model, undefined, undefined,
        invalidArgument(`Failed to convert version: ${rawVersion} to numeric.`));
    }
  }
  const label = rawLabel === undefined ? undefined : urlUnescape(rawLabel);
  if (kind === undefined) return malformed(method, path);
  const error = kind !== 'predict' && kind !== 'classify' && kind !== 'regress' && model === ''
    ? invalidArgument('Missing model name in request.')
    : undefined;
  return new Route(kind, path, model, version, label, error);
}

function malformed(method: string, path: string): Route {
  return new Route('malformed', path, '', undefined, undefined, invalidArgument(`Malformed request: ${method} ${path}`));
}

/**
 * Percent-decoding as curl_easy_unescape does it: `%XX` becomes the byte, anything else (a lone
 * `%`, `+`) stays as it is; the bytes are read as UTF-8.
 */
export function urlUnescape(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      const point = text.codePointAt(i)!;
      if (point > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(point), 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
