/**
 * The routing config: our own file beside TF Serving's model.config (which stays byte-compatible),
 * saying how a version label's traffic is split between its primary version (the version the label
 * names in model.config) and canary versions, and which share of it is copied to a shadow version.
 *
 * ```json
 * {"models": {"half_plus_two": {
 *    "request_key": "x-request-id",
 *    "default_label": "stable",
 *    "labels": {"stable": {"canaries": [{"version": 124, "percent": 10}],
 *                          "shadow": {"version": 124, "percent": 20}}}}}}
 * ```
 * - `request_key`: the header (REST) or metadata key (gRPC) whose hashed value picks the version,
 *   so one caller sees one version (default `x-request-id`; requests without it are split at
 *   random).
 * - `default_label`: requests naming no version and no label are routed as this label's requests.
 * - percents: 0 to 100 with at most two decimals; the canaries' sum is at most 100.
 */
import { invalidArgument } from '../errors.js';

export const DEFAULT_REQUEST_KEY = 'x-request-id';
/** Percent resolution: routing decisions are made in basis points (1/10000). */
export const BUCKETS = 10_000;

export interface CanaryRoute {
  readonly version: bigint;
  /** Share of the label's traffic, in basis points. */
  readonly basisPoints: number;
}

export interface ShadowRoute {
  readonly version: bigint;
  /** Share of the label's traffic copied to the shadow, in basis points. */
  readonly basisPoints: number;
}

export interface LabelRoute {
  readonly canaries: readonly CanaryRoute[];
  readonly shadow?: ShadowRoute | undefined;
}

export interface ModelRouting {
  /** Lower-case header / metadata key. */
  readonly requestKey: string;
  readonly defaultLabel?: string | undefined;
  readonly labels: ReadonlyMap<string, LabelRoute>;
}

export interface RoutingConfig {
  readonly models: ReadonlyMap<string, ModelRouting>;
}

export const EMPTY_ROUTING: RoutingConfig = { models: new Map() };

const INT64_MAX = (1n << 63n) - 1n;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Parses and validates routing config JSON text; INVALID_ARGUMENT naming the field on any problem. */
export function parseRoutingConfig(text: string, source = 'routing config'): RoutingConfig {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (error) {
    throw invalidArgument(`Invalid ${source}: ${(error as Error).message}`);
  }
  return routingConfigFromJson(doc, source);
}

export function routingConfigFromJson(doc: unknown, source = 'routing config'): RoutingConfig {
  const fail = (path: string, problem: string): never => {
    throw invalidArgument(`Invalid ${source}: ${path}: ${problem}`);
  };
  const root = objectAt(doc, '$', fail);
  onlyKeys(root, ['models'], '$', fail);
  const models = new Map<string, ModelRouting>();
  const modelsDoc = root['models'] === undefined ? {} : objectAt(root['models'], '$.models', fail);
  for (const [name, value] of Object.entries(modelsDoc)) {
    const path = `models.${name}`;
    if (name === '') fail(path, 'empty model name');
    const model = objectAt(value, path, fail);
    onlyKeys(model, ['request_key', 'default_label', 'labels'], path, fail);
    const requestKey = model['request_key'] === undefined ? DEFAULT_REQUEST_KEY : stringAt(model['request_key'], `${path}.request_key`, fail).toLowerCase();
    if (!HEADER_NAME.test(requestKey)) fail(`${path}.request_key`, `"${requestKey}" is not a header name`);
    const defaultLabel = model['default_label'] === undefined ? undefined : stringAt(model['default_label'], `${path}.default_label`, fail);
    if (defaultLabel === '') fail(`${path}.default_label`, 'empty label');
    const labels = new Map<string, LabelRoute>();
    const labelsDoc = model['labels'] === undefined ? {} : objectAt(model['labels'], `${path}.labels`, fail);
    for (const [label, routeDoc] of Object.entries(labelsDoc)) {
      if (label === '') fail(`${path}.labels`, 'empty label');
      labels.set(label, labelRoute(routeDoc, `${path}.labels.${label}`, fail));
    }
    models.set(name, { requestKey, defaultLabel, labels });
  }
  return { models };
}

function labelRoute(doc: unknown, path: string, fail: Fail): LabelRoute {
  const route = objectAt(doc, path, fail);
  onlyKeys(route, ['canaries', 'shadow'], path, fail);
  const canaries: CanaryRoute[] = [];
  const list = route['canaries'] === undefined ? [] : route['canaries'];
  if (!Array.isArray(list)) fail(`${path}.canaries`, 'must be a list');
  (list as Json[]).forEach((entry, i) => {
    const at = `${path}.canaries[${i}]`;
    const canary = objectAt(entry, at, fail);
    onlyKeys(canary, ['version', 'percent'], at, fail);
    const version = versionAt(canary['version'], `${at}.version`, fail);
    if (canaries.some((c) => c.version === version)) fail(at, `version ${version} listed twice`);
    canaries.push({ version, basisPoints: percentAt(canary['percent'], `${at}.percent`, fail) });
  });
  const total = canaries.reduce((sum, c) => sum + c.basisPoints, 0);
  if (total > BUCKETS) fail(`${path}.canaries`, `percents add up to ${total / 100}, more than 100`);
  let shadow: ShadowRoute | undefined;
  if (route['shadow'] !== undefined && route['shadow'] !== null) {
    const at = `${path}.shadow`;
    const doc = objectAt(route['shadow'], at, fail);
    onlyKeys(doc, ['version', 'percent'], at, fail);
    shadow = { version: versionAt(doc['version'], `${at}.version`, fail), basisPoints: percentAt(doc['percent'], `${at}.percent`, fail) };
  }
  return { canaries, shadow };
}

type Fail = (path: string, problem: string) => never;

function objectAt(value: unknown, path: string, fail: Fail): Record<string, Json> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be an object');
  return value as Record<string, Json>;
}

function onlyKeys(doc: Record<string, Json>, allowed: readonly string[], path: string, fail: Fail): void {
  for (const key of Object.keys(doc)) {
    if (!allowed.includes(key)) fail(path, `unknown field "${key}" (expected ${allowed.join(', ')})`);
  }
}

function stringAt(value: unknown, path: string, fail: Fail): string {
  if (typeof value !== 'string') fail(path, 'must be a string');
  return value as string;
}

function versionAt(value: unknown, path: string, fail: Fail): bigint {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : typeof value === 'string' ? value : undefined;
  if (text === undefined || !/^\d+$/.test(text)) return fail(path, 'must be a non-negative integer (number or decimal string)');
  const version = BigInt(text);
  if (version > INT64_MAX) fail(path, 'out of the int64 range');
  return version;
}

function percentAt(value: unknown, path: string, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) return fail(path, 'must be a number from 0 to 100');
  const basisPoints = Math.round(value * 100);
  if (Math.abs(basisPoints - value * 100) > 1e-6) fail(path, 'at most two decimals');
  return basisPoints;
}

/** The config as JSON (the file format), for GET /tfmodel/routing and status reports. */
export function routingConfigJson(config: RoutingConfig): { models: Record<string, unknown> } {
  const models: Record<string, unknown> = {};
  for (const [name, model] of [...config.models].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) models[name] = modelRoutingJson(model);
  return { models };
}

export function modelRoutingJson(model: ModelRouting): Record<string, unknown> {
  const labels: Record<string, unknown> = {};
  for (const [label, route] of model.labels) {
    labels[label] = {
      canaries: route.canaries.map((c) => ({ version: String(c.version), percent: c.basisPoints / 100 })),
      ...(route.shadow ? { shadow: { version: String(route.shadow.version), percent: route.shadow.basisPoints / 100 } } : {}),
    };
  }
  return { request_key: model.requestKey, ...(model.defaultLabel !== undefined ? { default_label: model.defaultLabel } : {}), labels };
}

/** Every version the config sends traffic to (canaries and shadows), per model. */
export function routedVersions(config: RoutingConfig): Array<{ model: string; label: string; version: bigint; role: 'canary' | 'shadow' }> {
  const out: Array<{ model: string; label: string; version: bigint; role: 'canary' | 'shadow' }> = [];
  for (const [model, routing] of config.models) {
    for (const [label, route] of routing.labels) {
      for (const canary of route.canaries) if (canary.basisPoints > 0) out.push({ model, label, version: canary.version, role: 'canary' });
      if (route.shadow && route.shadow.basisPoints > 0) out.push({ model, label, version: route.shadow.version, role: 'shadow' });
    }
  }
  return out;
}
