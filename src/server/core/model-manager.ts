/**
 * The model manager: which versions of which models are loaded, after TF Serving's
 * AspiredVersionsManager. It is split on TF Serving's seams:
 *
 * - a Source per model (source.ts; the file-system poller is one) pushes the model's full aspired
 *   version set;
 * - the pure transition policy (transition-policy.ts) says which loads and unloads may start;
 * - this manager only carries them out, on bounded pools (--num_load_threads, --num_unload_threads
 *   and a cap on the estimated bytes of the loads in progress), and keeps labels.
 *
 * Loads go START (queued) -> LOADING -> AVAILABLE, or END with an error after the configured
 * retries; unloading waits for the requests holding the version.
 * - Labels point at versions; moving one is allowed only to an AVAILABLE version (TF Serving's rule;
 *   --allow_version_labels_for_unavailable_models relaxes it for new labels).
 * - A config reload realises exactly the new model list, atomically: if it is invalid, or a label in
 *   it cannot be applied, nothing changes.
 */
import { create } from '@bufbuild/protobuf';
import { type ModelConfig, type ModelConfigList, ModelConfigListSchema } from '../../gen/tensorflow_serving/config/model_server_config_pb.js';
import { Code, ServingError, failedPrecondition, invalidArgument, notFound, toServingError } from '../errors.js';
import type { Logger } from '../logging.js';
import { validateModelConfigList } from '../config/model-config.js';
import {
  type ModelConfigReloader,
  type ModelSpecRequest,
  type ModelStatus,
  type PayloadLogRegistry,
  type ServableHandle,
  type ServingCore,
  VersionState,
  type VersionStatus,
} from './types.js';
import { availableParallelism } from 'node:os';
import { LoadPool } from './load-pool.js';
import { type AspiredVersionSet, type ModelSource, type SourceRegistry, shownBasePath, sourceFactoryFor } from './source.js';
import { type MemoryDecision, type MemorySnapshot, type TransitionPolicyKind, type VersionSnapshot, planTransitions } from './transition-policy.js';
import { describeMemoryDecision } from './memory-decision.js';
import type { LoadedServable, VersionLoader, VersionToLoad } from './version-loader.js';
import { type VersionPolicy, compareVersions, describePolicy, versionPolicyOf } from './version-policy.js';

export interface ManagerOptions {
  readonly loader: VersionLoader;
  readonly log: Logger;
  /** > 0: poll base paths this often; 0: once at start; < 0: never (tests). TF: --file_system_poll_wait_seconds. */
  readonly fileSystemPollMs: number;
  /** --max_num_load_retries (default 5). */
  readonly maxLoadRetries: number;
  /** --load_retry_interval_micros / 1000 (default 60 s). */
  readonly loadRetryIntervalMs: number;
  /** --allow_version_labels_for_unavailable_models. */
  readonly allowLabelsForUnavailable: boolean;
  /** logging_config: the payload log of each model, configured with every applied config. */
  readonly payloadLogs?: PayloadLogRegistry;
  /** Called after every load attempt (metrics), with the version's directory. */
  readonly onLoadAttempt?: (dir: string, ok: boolean, ms: number, version: LoadedVersionInfo) => void;
  /** Called after a version is unloaded (metrics), with how long draining and disposing took. */
  readonly onUnload?: (version: LoadedVersionInfo, ms: number) => void;
  /** --enable_signature_method_name_check (ServingCore.signatureMethodNameCheck). */
  readonly signatureMethodNameCheck?: boolean;
  /** --num_load_threads: loads at once after the initial load (0, TF Serving's default: one at a time). */
  readonly numLoadThreads?: number;
  /** --num_unload_threads: unloads at once (0, TF Serving's default: one at a time). */
  readonly numUnloadThreads?: number;
  /** Loads at once during the initial load (TF Serving's num_initial_load_threads: 4 x CPUs). */
  readonly numInitialLoadThreads?: number;
  /** Cap on the estimated bytes of the loads in progress (one larger load still runs, alone). */
  readonly maxConcurrentLoadBytes?: number;
  /** A version's estimated footprint, asked before it is queued for loading (default 0). */
  readonly estimateLoadBytes?: (version: VersionToLoad) => Promise<number>;
  /**
   * What all loaded versions together may hold, by their estimates (--model_memory_budget_bytes):
   * a reload that would not fit beside the old version unloads it first (transition-policy.ts).
   * Absent or 0: no memory check. Needs `estimateLoadBytes`.
   */
  readonly memoryBudgetBytes?: number;
  /** Told each time a version's load leaves the configured order for memory (metrics). */
  readonly onMemoryDecision?: (model: string, decision: MemoryDecision) => void;
  /** Sources by base path scheme (s3, gs, ...); local paths are polled on the file system. */
  readonly sources?: SourceRegistry;
  /** TF Serving's aspired_version_policy (default availability-preserving). */
  readonly transitionPolicy?: TransitionPolicyKind;
  /** Injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

class ManagedVersion {
  state = VersionState.START;
  error: ServingError | undefined;
  servable: LoadedServable | undefined;
  /** Waiting for a load slot (state START), or for an unload slot (state AVAILABLE). */
  loadQueued = false;
  unloadQueued = false;
  inflight = 0;
  /** Set while unloading: resolves when the last handle is released. */
  private drained: (() => void) | undefined;

  constructor(
    readonly version: bigint,
    readonly dir: string,
    /** The footprint estimated before loading (the memory budget's and the load pool's bytes). */
    readonly estimatedBytes: number,
  ) {}

  acquire(): void {
    this.inflight++;
  }

  release(): void {
    this.inflight--;
    if (this.inflight === 0) this.drained?.();
  }

  drain(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }

  status(): VersionStatus {
    const servable = this.state === VersionState.AVAILABLE ? this.servable : undefined;
    // An AVAILABLE version whose engine trapped and could not be rebuilt says why it fails.
    const error = this.error ?? servable?.engine.health?.();
    return {
      version: this.version,
      state: this.state,
      ...(error ? { error } : {}),
      ...(servable ? { engine: servable.engine.backend, ...(servable.memoryBytes !== undefined ? { memoryBytes: servable.memoryBytes } : {}) } : {}),
    };
  }
}

/** What load/unload hooks are told about a version. */
export interface LoadedVersionInfo {
  readonly model: string;
  readonly version: bigint;
  /** The engine's backend, once loaded. */
  readonly engine: string | undefined;
}

function infoOf(model: ManagedModel, managed: ManagedVersion): LoadedVersionInfo {
  return { model: model.name, version: managed.version, engine: managed.servable?.engine.backend };
}

class ManagedModel {
  readonly versions = new Map<bigint, ManagedVersion>();
  /** The aspired versions last pushed by the source: version -> local directory. */
  aspired: AspiredVersionSet = new Map();
  labels = new Map<string, bigint>();
  /** Labels from the initial config still waiting for their version to become AVAILABLE. */
  pendingLabels = new Map<string, bigint>();
  policy: VersionPolicy;
  removed = false;
  source: ModelSource | undefined;
  /** Estimated footprint by version directory (asked once per directory, before it is aspired). */
  readonly estimates = new Map<string, number>();
  /** Source pushes so far: an estimate finishing late never applies an older push over a newer one. */
  pushes = 0;
  /** The last memory decision (transition-policy.ts) and the version it was about, reported once. */
  memoryDecision: MemoryDecision | undefined;

  constructor(public config: ModelConfig) {
    this.policy = versionPolicyOf(config);
  }

  get name(): string {
    return this.config.name;
  }

  availableVersions(): ManagedVersion[] {
    return [...this.versions.values()].filter((v) => v.state === VersionState.AVAILABLE);
  }

  stopSource(): void {
    this.source?.stop();
    this.source = undefined;
  }
}

/** A model of the initial config none of whose versions became AVAILABLE: the versions that failed. */
export interface InitialLoadFailure {
  readonly model: string;
  readonly version: bigint;
  readonly error: ServingError;
}

const INITIAL_LOAD_CHECK_MS = 100;

/** Failures a retry cannot fix: a malformed model, or one we cannot run at all (a TFLite model). */
const NOT_RETRIED: ReadonlySet<Code> = new Set([Code.INVALID_ARGUMENT, Code.UNIMPLEMENTED]);

/** Loading (queued or running), serving or unloading: its estimated bytes count against the budget. */
function holdsMemory(v: ManagedVersion): boolean {
  return v.loadQueued || v.unloadQueued || v.state === VersionState.LOADING || v.state === VersionState.AVAILABLE || v.state === VersionState.UNLOADING;
}

/** Some version is AVAILABLE, or every version found ended with an error (none still loading). */
function initialLoadDone(model: ManagedModel): boolean {
  const versions = [...model.versions.values()];
  if (versions.some((v) => v.state === VersionState.AVAILABLE)) return true;
  return versions.length > 0 && versions.every((v) => v.state === VersionState.END && v.error !== undefined);
}

function initialFailures(model: ManagedModel): InitialLoadFailure[] {
  return [...model.versions.values()].flatMap((v) => (v.error ? [{ model: model.name, version: v.version, error: v.error }] : []));
}

export class ModelManager implements ServingCore, ModelConfigReloader {
  private readonly models = new Map<string, ManagedModel>();
  /** Removed models whose versions still hold memory (unloading). */
  private readonly retired = new Set<ManagedModel>();
  private readonly loading = new Set<Promise<unknown>>();
  private readonly sleep: (ms: number) => Promise<void>;
  private stopped = false;
  readonly signatureMethodNameCheck: boolean;
  /** Loads in progress: --num_load_threads (the initial load: numInitialLoadThreads) and the byte cap. */
  private readonly loadPool: LoadPool;
  private readonly unloadPool: LoadPool;

  constructor(private readonly options: ManagerOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    this.signatureMethodNameCheck = options.signatureMethodNameCheck ?? false;
    this.loadPool = new LoadPool(options.numLoadThreads ?? 0, options.maxConcurrentLoadBytes || Number.POSITIVE_INFINITY);
    this.unloadPool = new LoadPool(options.numUnloadThreads ?? 0);
  }

  /** Loads and unloads running and queued now (metrics, tests). */
  poolStats(): { loads: ReturnType<LoadPool['stats']>; unloads: ReturnType<LoadPool['stats']> } {
    return { loads: this.loadPool.stats(), unloads: this.unloadPool.stats() };
  }

  /**
   * Serves `list`: polls every model once and waits for the versions found to load (or fail), then
   * applies labels. Unlike TF Serving, a label whose version is not AVAILABLE does not stop the
   * server: it stays pending and is applied when the version becomes AVAILABLE.
   */
  async start(list: ModelConfigList): Promise<void> {
    validateModelConfigList(list);
    this.options.payloadLogs?.configure(list);
    const models = list.config.map((config) => new ManagedModel(config));
    for (const model of models) this.models.set(model.name, model);
    // TF Serving loads the initial models on num_initial_load_threads, then on --num_load_threads.
    this.loadPool.setConcurrency(this.options.numInitialLoadThreads ?? 4 * availableParallelism());
    try {
      await Promise.all(models.map((model) => this.startModel(model)));
      await this.settled();
    } finally {
      this.loadPool.setConcurrency(this.options.numLoadThreads ?? 0);
    }
    for (const model of models) {
      for (const [label, version] of Object.entries(model.config.versionLabels)) model.pendingLabels.set(label, version);
      this.applyPendingLabels(model);
      if (model.pendingLabels.size > 0) {
        this.options.log.warn('labels_pending', {
          model: model.name,
          labels: Object.fromEntries(model.pendingLabels),
          reason: 'version not available yet; applied when it is',
        });
      }
    }
  }

  /**
   * Resolves, as TF Serving's initial load (ConnectSourcesWithFastInitialLoad) does, once every
   * model has a version that is AVAILABLE or every version found failed for good; a model with no
   * version on disk yet is waited for (its base path keeps being polled). The result lists the
   * failed versions of models left without an AVAILABLE one (TF Serving then refuses to start).
   * `waitForVersions` false: a model with no version on disk counts as settled (a reload must not
   * hang on a model whose first version is still to come; TF Serving's would).
   */
  async untilModelsSettled(names?: readonly string[], waitForVersions = true): Promise<InitialLoadFailure[]> {
    const models = [...this.models.values()].filter((m) => names === undefined || names.includes(m.name));
    await this.settled();
    const done = (m: ManagedModel): boolean => m.removed || initialLoadDone(m) || (!waitForVersions && m.versions.size === 0);
    while (!this.stopped && !models.every(done)) {
      await new Promise((resolve) => setTimeout(resolve, INITIAL_LOAD_CHECK_MS));
      await this.settled();
    }
    return models.flatMap((model) => (model.removed || model.availableVersions().length > 0 ? [] : initialFailures(model)));
  }

  /** Resolves when no load is in progress (including loads started while waiting). */
  async settled(): Promise<void> {
    while (this.loading.size > 0) await Promise.allSettled([...this.loading]);
  }

  async reloadConfig(list: ModelConfigList): Promise<void> {
    validateModelConfigList(list);
    const previous = new Set(this.models.keys());
    const wanted = new Map(list.config.map((c) => [c.name, c]));
    // Labels first: if one cannot be applied, nothing changes.
    const labelPlans = new Map<string, Map<string, bigint>>();
    for (const config of list.config) labelPlans.set(config.name, this.planLabels(config));
    this.options.payloadLogs?.configure(list);

    for (const model of [...this.models.values()]) {
      if (!wanted.has(model.name)) this.removeModel(model);
    }
    const starts: Array<Promise<void>> = [];
    for (const config of list.config) {
      const existing = this.models.get(config.name);
      if (!existing) {
        const model = new ManagedModel(config);
        this.models.set(model.name, model);
        model.labels = labelPlans.get(config.name)!;
        starts.push(this.startModel(model));
        continue;
      }
      const pathChanged = existing.config.basePath !== config.basePath;
      existing.config = config;
      existing.policy = versionPolicyOf(config);
      existing.labels = labelPlans.get(config.name)!;
      existing.pendingLabels.clear();
      if (pathChanged || !existing.source) {
        existing.stopSource();
        starts.push(this.startModel(existing));
      } else {
        existing.source.setPolicy(existing.policy);
        this.reconcile(existing);
      }
    }
    this.options.log.info('config_reloaded', { models: list.config.map((c) => c.name) });
    await Promise.all(starts);
    // As TF Serving's ReloadConfig (WaitUntilModelsAvailable): new models are served on return.
    const added = list.config.filter((c) => !previous.has(c.name)).map((c) => c.name);
    const failures = await this.untilModelsSettled(added, false);
    if (failures.length > 0) {
      const entries = failures.map((f) => `{{name: ${f.model} version: ${f.version}} due to error: ${f.error.toString()}}, `).join('');
      throw new ServingError(Code.UNKNOWN, `${new Set(failures.map((f) => f.model)).size} model(s) did not become available: {${entries}}`);
    }
  }

  /** Stops polling and unloads everything (graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    const models = [...this.models.values()];
    for (const model of models) this.removeModel(model);
    await this.settled();
    await Promise.all(models.flatMap((m) => [...m.versions.values()].map((v) => v.drain())));
  }

  // ---- ServingCore -------------------------------------------------------------------------

  acquire(spec: ModelSpecRequest): ServableHandle {
    if (!spec.name) throw invalidArgument('ModelSpec has no name specified.');
    const model = this.models.get(spec.name);
    let version: ManagedVersion | undefined;
    if (spec.label !== undefined) {
      const labelled = model?.labels.get(spec.label);
      if (labelled === undefined) throw invalidArgument(`Unrecognized servable version label: ${spec.label}`);
      version = model!.versions.get(labelled);
      if (version?.state !== VersionState.AVAILABLE) throw notFound(`Servable not found for request: Specific(${spec.name}, ${labelled})`);
    } else if (spec.version !== undefined) {
      version = model?.versions.get(spec.version);
      if (version?.state !== VersionState.AVAILABLE) throw notFound(`Servable not found for request: Specific(${spec.name}, ${spec.version})`);
    } else {
      version = model?.availableVersions().sort((a, b) => compareVersions(b.version, a.version))[0];
      if (!version) throw notFound(`Servable not found for request: Latest(${spec.name})`);
    }
    const servable = version.servable!;
    version.acquire();
    let released = false;
    return {
      name: spec.name,
      version: version.version,
      engine: servable.engine,
      signatureDefs: servable.signatureDefs,
      signatures: servable.engine.signatures,
      payloadLog: this.options.payloadLogs?.forModel(spec.name),
      release: () => {
        if (released) return;
        released = true;
        version!.release();
      },
    };
  }

  modelStatus(name: string, version?: bigint): ModelStatus {
    const model = this.models.get(name);
    const waiting = model?.memoryDecision?.kind === 'wait' ? model.memoryDecision.version : undefined;
    if (!model || (model.versions.size === 0 && waiting === undefined)) throw notFound(`Could not find any versions of model ${name}`);
    if (version !== undefined && !model.versions.has(version) && version !== waiting) throw notFound(`Could not find version ${version} of model ${name}`);
    return this.statusOf(model, version);
  }

  listModels(): ModelStatus[] {
    return [...this.models.values()].map((m) => this.statusOf(m));
  }

  /** The version a label names now (routing), without building a status. */
  labelVersion(name: string, label: string): bigint | undefined {
    return this.models.get(name)?.labels.get(label);
  }

  /** Whether a version is AVAILABLE now (routing). */
  isAvailable(name: string, version: bigint): boolean {
    return this.models.get(name)?.versions.get(version)?.state === VersionState.AVAILABLE;
  }

  /** The model list now served (the last config applied), for reloads that edit it. */
  configList(): ModelConfigList {
    return create(ModelConfigListSchema, { config: [...this.models.values()].map((m) => m.config) });
  }

  isReady(): boolean {
    return this.models.size > 0 && [...this.models.values()].every((m) => m.availableVersions().length > 0);
  }

  private statusOf(model: ManagedModel, version?: bigint): ModelStatus {
    const statuses = [...model.versions.values()].map((v) => v.status());
    // A load waiting for a label to let go of the old version: START, saying why (GetModelStatus's message).
    const waiting = model.memoryDecision?.kind === 'wait' ? model.memoryDecision : undefined;
    if (waiting && model.versions.get(waiting.version)?.state !== VersionState.LOADING) {
      const at = statuses.findIndex((v) => v.version === waiting.version);
      const entry: VersionStatus = { version: waiting.version, state: VersionState.START, waiting: describeMemoryDecision(waiting) };
      if (at >= 0) statuses[at] = entry;
      else statuses.push(entry);
    }
    const versions = statuses
      .filter((v) => version === undefined || v.version === version)
      .sort((a, b) => compareVersions(b.version, a.version));
    return { name: model.name, basePath: model.config.basePath, versions, labels: new Map(model.labels) };
  }

  // ---- versions ------------------------------------------------------------------------------

  private startModel(model: ManagedModel): Promise<void> {
    this.options.log.info('model_added', { model: model.name, base_path: shownBasePath(model.config.basePath), policy: describePolicy(model.policy) });
    const source = sourceFactoryFor(model.config.basePath, this.options.sources)({
      model: model.name,
      basePath: model.config.basePath,
      policy: model.policy,
      log: this.options.log,
      pollMs: this.options.fileSystemPollMs,
      onAspired: (aspired) => {
        if (model.source !== source || model.removed) return;
        const push = ++model.pushes;
        const apply = (): void => {
          if (push !== model.pushes || model.source !== source || model.removed) return;
          model.aspired = aspired;
          this.reconcile(model);
        };
        // With a memory budget the policy needs each new version's footprint before deciding.
        const unknown = this.options.memoryBudgetBytes ? [...aspired].filter(([, dir]) => !model.estimates.has(dir)) : [];
        if (unknown.length === 0) return apply();
        this.track(
          Promise.all(unknown.map(async ([version, dir]) => model.estimates.set(dir, await this.estimate({ model: model.name, version, dir })))).then(apply),
        );
      },
    });
    model.source = source;
    return source.start();
  }

  /** Where each version stands, for the transition policy: state, footprint, labels naming it. */
  private snapshot(model: ManagedModel): VersionSnapshot[] {
    const labels = new Map<bigint, string[]>();
    for (const [label, version] of model.labels) labels.set(version, [...(labels.get(version) ?? []), label]);
    const snapshot: VersionSnapshot[] = [];
    for (const v of model.versions.values()) {
      // An unloaded version aspired again is loaded afresh (below, as START).
      if (v.state === VersionState.END && !v.error && model.aspired.has(v.version)) continue;
      const state = v.loadQueued ? VersionState.LOADING : v.unloadQueued ? VersionState.UNLOADING : v.state;
      snapshot.push({
        version: v.version, state, aspired: model.aspired.has(v.version), failed: v.error !== undefined,
        bytes: v.estimatedBytes, labels: labels.get(v.version) ?? [],
      });
    }
    for (const [version, dir] of model.aspired) {
      const current = model.versions.get(version);
      if (!current || (current.state === VersionState.END && !current.error)) {
        snapshot.push({ version, state: VersionState.START, aspired: true, bytes: model.estimates.get(dir) ?? 0, labels: labels.get(version) ?? [] });
      }
    }
    return snapshot;
  }

  /** The budget and what the other models hold (loading, serving or unloading), or undefined: no check. */
  private memorySnapshot(model: ManagedModel): MemorySnapshot | undefined {
    const budgetBytes = this.options.memoryBudgetBytes;
    if (!budgetBytes) return undefined;
    let otherModelsBytes = 0;
    for (const other of [...this.models.values(), ...this.retired]) {
      if (other === model) continue;
      for (const v of other.versions.values()) if (holdsMemory(v)) otherModelsBytes += v.estimatedBytes;
    }
    return { budgetBytes, otherModelsBytes };
  }

  /** Starts the loads and unloads the transition policy allows now. */
  private reconcile(model: ManagedModel): void {
    // Forget failed versions no longer aspired: if one comes back (re-exported), it is loaded afresh.
    // Unloaded ones stay, as END in the model's status (TF Serving's ServableStateMonitor keeps them).
    for (const v of [...model.versions.values()]) {
      if (v.state === VersionState.END && v.error && !model.aspired.has(v.version)) model.versions.delete(v.version);
    }
    const policy = this.options.transitionPolicy ?? 'availability-preserving';
    const plan = planTransitions({ policy, versions: this.snapshot(model), memory: this.memorySnapshot(model) });
    this.noteMemoryDecision(model, plan.memory);
    for (const action of plan.actions) {
      if (action.kind === 'load') {
        if (model.removed || this.stopped) continue;
        const dir = model.aspired.get(action.version)!;
        const managed = new ManagedVersion(action.version, dir, model.estimates.get(dir) ?? 0);
        managed.loadQueued = true;
        model.versions.set(action.version, managed);
        this.track(this.load(model, managed));
      } else {
        const managed = model.versions.get(action.version)!;
        managed.unloadQueued = true;
        this.track(this.unload(model, managed));
      }
    }
  }

  /** Logs and reports a memory decision the first time it is taken for a version. */
  private noteMemoryDecision(model: ManagedModel, decision: MemoryDecision | undefined): void {
    const previous = model.memoryDecision;
    model.memoryDecision = decision;
    if (!decision || (previous?.kind === decision.kind && previous.version === decision.version)) return;
    const fields = {
      model: model.name, version: decision.version, needed_bytes: decision.neededBytes, budget_bytes: decision.budgetBytes,
      reason: describeMemoryDecision(decision),
    };
    const event = { 'unload-first': 'reload_unloads_first', wait: 'load_waits_for_label', 'over-budget': 'load_over_memory_budget' }[decision.kind];
    this.options.log.warn(event, fields);
    this.options.onMemoryDecision?.(model.name, decision);
  }

  /** Memory freed: models whose loads the budget held back may go on. */
  private reconcileHeldBack(): void {
    for (const model of this.models.values()) if (model.memoryDecision) this.reconcile(model);
  }

  /** Still wanted: the model is served and the source still aspires this version. */
  private wanted(model: ManagedModel, managed: ManagedVersion): boolean {
    return !model.removed && !this.stopped && model.aspired.get(managed.version) === managed.dir;
  }

  private async load(model: ManagedModel, managed: ManagedVersion): Promise<void> {
    const { log, loader, maxLoadRetries, loadRetryIntervalMs } = this.options;
    const request: VersionToLoad = { model: model.name, version: managed.version, dir: managed.dir };
    const bytes = model.estimates.has(managed.dir) ? managed.estimatedBytes : await this.estimate(request);
    for (let attempt = 0; ; attempt++) {
      const slot = await this.loadPool.acquire(bytes);
      if (!this.wanted(model, managed)) {
        // No longer aspired while it waited: never loaded.
        slot.release();
        managed.loadQueued = false;
        managed.state = VersionState.END;
        this.reconcile(model);
        return;
      }
      managed.loadQueued = false;
      managed.state = VersionState.LOADING;
      const started = performance.now();
      log.info('version_loading', { model: model.name, version: managed.version, dir: managed.dir, attempt, estimated_bytes: bytes });
      try {
        managed.servable = await loader(request);
        slot.release();
        this.options.onLoadAttempt?.(managed.dir, true, performance.now() - started, infoOf(model, managed));
        break;
      } catch (error) {
        slot.release();
        const failure = toServingError(error, `Loading servable: {name: ${model.name} version: ${managed.version}}`);
        this.options.onLoadAttempt?.(managed.dir, false, performance.now() - started, infoOf(model, managed));
        const retry = attempt < maxLoadRetries && !model.removed && !this.stopped && !NOT_RETRIED.has(failure.code);
        log.error('version_load_failed', { model: model.name, version: managed.version, attempt, error: failure.toString(), retrying: retry });
        if (!retry) {
          managed.state = VersionState.END;
          managed.error = failure;
          this.reconcile(model);
          this.reconcileHeldBack();
          return;
        }
        // The slot is not held while waiting to retry: a failing version does not hold up others.
        await this.sleep(loadRetryIntervalMs);
      }
    }
    managed.state = VersionState.AVAILABLE;
    log.info('version_available', { model: model.name, version: managed.version });
    this.applyPendingLabels(model);
    // A version no longer aspired is unloaded by the policy once that keeps the model available.
    this.reconcile(model);
  }

  private async estimate(version: VersionToLoad): Promise<number> {
    if (!this.options.estimateLoadBytes) return 0;
    try {
      return await this.options.estimateLoadBytes(version);
    } catch {
      return 0;
    }
  }

  private async unload(model: ManagedModel, managed: ManagedVersion): Promise<void> {
    const slot = await this.unloadPool.acquire();
    try {
      managed.unloadQueued = false;
      if (managed.state !== VersionState.AVAILABLE) return;
      managed.state = VersionState.UNLOADING;
      this.options.log.info('version_unloading', { model: model.name, version: managed.version, inflight: managed.inflight });
      const started = performance.now();
      const info = infoOf(model, managed);
      await managed.drain();
      try {
        await managed.servable?.engine.dispose();
      } catch (error) {
        this.options.log.error('version_unload_failed', { model: model.name, version: managed.version, error: String(error) });
      }
      managed.servable = undefined;
      managed.state = VersionState.END;
      this.options.onUnload?.(info, performance.now() - started);
      this.options.log.info('version_unloaded', { model: model.name, version: managed.version });
    } finally {
      slot.release();
    }
    if (model.removed && [...model.versions.values()].every((v) => !holdsMemory(v))) this.retired.delete(model);
    // Resource-preserving order loads the next version only now.
    this.reconcile(model);
    this.reconcileHeldBack();
  }

  private removeModel(model: ManagedModel): void {
    model.removed = true;
    // Its versions hold memory until they are unloaded.
    if ([...model.versions.values()].some(holdsMemory)) this.retired.add(model);
    model.stopSource();
    this.models.delete(model.name);
    model.aspired = new Map();
    this.reconcile(model);
    this.options.log.info('model_removed', { model: model.name });
  }

  private track(work: Promise<unknown>): void {
    this.loading.add(work);
    void work.finally(() => this.loading.delete(work));
  }

  // ---- labels --------------------------------------------------------------------------------

  /** The labels `config` asks for, or FAILED_PRECONDITION if one cannot be applied now. */
  private planLabels(config: ModelConfig): Map<string, bigint> {
    const model = this.models.get(config.name);
    const labels = new Map(Object.entries(config.versionLabels));
    for (const [label, version] of labels) {
      const isNew = !model?.labels.has(label);
      if (this.options.allowLabelsForUnavailable && isNew) continue;
      if (model?.versions.get(version)?.state !== VersionState.AVAILABLE) {
        throw failedPrecondition(
          `Request to assign label to version ${version} of model ${config.name}, which is not currently available for inference`,
        );
      }
    }
    return labels;
  }

  private applyPendingLabels(model: ManagedModel): void {
    for (const [label, version] of model.pendingLabels) {
      if (model.versions.get(version)?.state !== VersionState.AVAILABLE && !this.options.allowLabelsForUnavailable) continue;
      model.labels.set(label, version);
      model.pendingLabels.delete(label);
      this.options.log.info('label_applied', { model: model.name, label, version });
    }
  }
}
