/**
 * Where a request's version label is resolved, once for every API and transport: a ServingCore
 * in front of the model manager that applies the routing config (routing/routing-config.ts).
 *
 * - A request naming a version goes to that version, untouched.
 * - A request naming a label with a route, or naming nothing when the model's `default_label` has
 *   one, goes to a canary when its request key's bucket falls in a canary's share, else to the
 *   label's primary (the version model.config gives the label). A canary that is not AVAILABLE
 *   (unloaded since) sends the request to the primary: routing never fails a request the label
 *   alone would have served.
 * - Errors are TF Serving's for the label itself (unknown label, version not available).
 * The handle carries the version that answers, so every API reports it (gRPC model_spec.version,
 * the REST version header) and the route taken (for shadowing and metrics).
 */
import { failedPrecondition } from '../errors.js';
import type { Logger } from '../logging.js';
import type { ModelSpecRequest, ModelStatus, ServableHandle, ServingCore, ShadowCall } from '../core/types.js';
import { EMPTY_ROUTING, type ModelRouting, type RoutingConfig, modelRoutingJson, routedVersions } from '../routing/routing-config.js';
import { bucketOf, canaryFor, shadowed } from '../routing/traffic-split.js';
import { captureTraceContext } from '../tracing/tracing.js';
import type { Context } from '@opentelemetry/api';

/** What routing needs from the manager beyond ServingCore. */
export interface LabelledCore extends ServingCore {
  labelVersion(name: string, label: string): bigint | undefined;
  isAvailable(name: string, version: bigint): boolean;
}

export interface RoutedCoreOptions {
  readonly core: LabelledCore;
  /** --allow_version_labels_for_unavailable_models also lets routes name versions not yet AVAILABLE. */
  readonly allowUnavailable?: boolean;
  readonly log?: Logger;
  /** A routed request whose canary was not AVAILABLE and went to the primary. */
  readonly onFallback?: (model: string, label: string, canary: bigint) => void;
  /** Runs the shadow copies; absent: shadows are not sampled. */
  readonly shadows?: ShadowSubmitter;
  /** Injectable for tests: [0, 1). */
  readonly random?: () => number;
}

/** Where sampled copies go (routing/shadow-runner.ts). */
export interface ShadowSubmitter {
  /** `trace`: the request's trace context when it is traced (the copy's span is its child). */
  submit(model: string, primary: bigint, shadow: bigint, call: ShadowCall, trace?: Context): void;
}

export class RoutedCore implements ServingCore {
  private config: RoutingConfig = EMPTY_ROUTING;
  private readonly core: LabelledCore;
  private readonly random: () => number;
  readonly signatureMethodNameCheck?: boolean;

  constructor(private readonly options: RoutedCoreOptions) {
    this.core = options.core;
    this.random = options.random ?? Math.random;
    if (options.core.signatureMethodNameCheck !== undefined) this.signatureMethodNameCheck = options.core.signatureMethodNameCheck;
  }

  routing(): RoutingConfig {
    return this.config;
  }

  /**
   * Replaces the routing config as a whole. Every canary and shadow version it sends traffic to
   * must be AVAILABLE now (TF Serving's rule for labels), else FAILED_PRECONDITION and the
   * previous config stays.
   */
  setRouting(config: RoutingConfig): void {
    if (!this.options.allowUnavailable) {
      for (const { model, label, version, role } of routedVersions(config)) {
        if (!this.core.isAvailable(model, version)) {
          throw failedPrecondition(
            `Request to route ${role} traffic of label ${label} to version ${version} of model ${model}, which is not currently available for inference`,
          );
        }
      }
    }
    this.config = config;
    this.options.log?.info('routing_applied', { models: [...config.models.keys()] });
  }

  acquire(spec: ModelSpecRequest): ServableHandle {
    if (spec.version !== undefined || this.config.models.size === 0) return this.core.acquire(spec);
    const routing = this.config.models.get(spec.name);
    if (routing === undefined) return this.core.acquire(spec);
    const label = spec.label ?? routing.defaultLabel;
    if (label === undefined) return this.core.acquire(spec);
    const primary = this.core.labelVersion(spec.name, label);
    if (primary === undefined) {
      // An unknown label fails as TF Serving's; an unversioned request whose default label is gone
      // goes to the latest version, as it would without routing.
      return this.core.acquire(spec);
    }
    return this.routed(spec, routing, label, primary);
  }

  private routed(spec: ModelSpecRequest, routing: ModelRouting, label: string, primary: bigint): ServableHandle {
    const route = routing.labels.get(label);
    const key = route === undefined ? undefined : spec.requestKeys?.keyValue(routing.requestKey);
    const canary = route === undefined ? undefined : canaryFor(route, bucketOf(key, this.random));
    let version = primary;
    if (canary !== undefined && canary !== primary) {
      if (this.core.isAvailable(spec.name, canary)) version = canary;
      else this.options.onFallback?.(spec.name, label, canary);
    }
    const handle = this.core.acquire({ name: spec.name, version, ...(spec.signatureName !== undefined ? { signatureName: spec.signatureName } : {}) });
    const shadows = this.options.shadows;
    const target = route?.shadow?.version;
    let shadow: { version: bigint; send: (call: ShadowCall) => void } | undefined;
    if (shadows && target !== undefined && target !== version && shadowed(route!, key, this.random)) {
      // Acquire runs on the request's synchronous path, where its trace context is still active.
      const trace = captureTraceContext();
      shadow = { version: target, send: (call: ShadowCall) => shadows.submit(spec.name, version, target, call, trace) };
    }
    return Object.assign(handle, { route: { label, primary, shadow } });
  }

  modelStatus(name: string, version?: bigint): ModelStatus {
    return this.withRouting(this.core.modelStatus(name, version));
  }

  listModels(): ModelStatus[] {
    return this.core.listModels().map((status) => this.withRouting(status));
  }

  isReady(): boolean {
    return this.core.isReady();
  }

  private withRouting(status: ModelStatus): ModelStatus {
    const routing = this.config.models.get(status.name);
    return routing === undefined ? status : { ...status, routing: modelRoutingJson(routing) };
  }
}
