/**
 * The model manager: which versions of which models are loaded, and the transitions between them,
 * after TF Serving's AspiredVersionsManager with its availability-preserving policy:
 *
 * - Each model's base path is polled; the version policy picks the aspired versions among those
 *   on disk. Aspired versions are loaded (START -> LOADING -> AVAILABLE, or END with an error after
 *   the configured retries).
 * - A version that is no longer aspired is unloaded only once some aspired version is AVAILABLE (or
 *   nothing is aspired any more), so a model never stops serving because a new version is loading
 *   or failed to load. Unloading waits for the requests holding the version.
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
import type { LoadedServable, VersionLoader } from './version-loader.js';
import { type VersionPolicy, aspiredVersions, compareVersions, describePolicy, versionPolicyOf } from './version-policy.js';
import { findVersions } from './version-source.js';

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
  /** Injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

class ManagedVersion {
  state = VersionState.START;
  error: ServingError | undefined;
  servable: LoadedServable | undefined;
  inflight = 0;
  /** Set while unloading: resolves when the last handle is released. */
  private drained: (() => void) | undefined;

  constructor(
    readonly version: bigint,
    readonly dir: string,
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
  /** Versions found on disk at the last poll. */
  onDisk = new Map<bigint, string>();
  labels = new Map<string, bigint>();
  /** Labels from the initial config still waiting for their version to become AVAILABLE. */
  pendingLabels = new Map<string, bigint>();
  policy: VersionPolicy;
  removed = false;
  private polling = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(public config: ModelConfig) {
    this.policy = versionPolicyOf(config);
  }

  get name(): string {
    return this.config.name;
  }

  availableVersions(): ManagedVersion[] {
    return [...this.versions.values()].filter((v) => v.state === VersionState.AVAILABLE);
  }

  /** Runs `poll` now and then every `intervalMs` (if > 0), never two at once. */
  startPolling(intervalMs: number, poll: () => Promise<void>): Promise<void> {
    const guarded = async (): Promise<void> => {
      if (this.polling || this.removed) return;
      this.polling = true;
      try {
        await poll();
      } finally {
        this.polling = false;
      }
    };
    if (intervalMs > 0) this.timer = setInterval(() => void guarded(), intervalMs).unref();
    return guarded();
  }

  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
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
  private readonly loading = new Set<Promise<unknown>>();
  private readonly sleep: (ms: number) => Promise<void>;
  private stopped = false;
  readonly signatureMethodNameCheck: boolean;

  constructor(private readonly options: ManagerOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    this.signatureMethodNameCheck = options.signatureMethodNameCheck ?? false;
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
    await Promise.all(models.map((model) => this.startModel(model)));
    await this.settled();
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
      if (pathChanged) {
        existing.stopPolling();
        starts.push(this.startModel(existing));
      } else {
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
    if (!model || model.versions.size === 0) throw notFound(`Could not find any versions of model ${name}`);
    if (version !== undefined && !model.versions.has(version)) throw notFound(`Could not find version ${version} of model ${name}`);
    return this.statusOf(model, version);
  }

  listModels(): ModelStatus[] {
    return [...this.models.values()].map((m) => this.statusOf(m));
  }

  /** The model list now served (the last config applied), for reloads that edit it. */
  configList(): ModelConfigList {
    return create(ModelConfigListSchema, { config: [...this.models.values()].map((m) => m.config) });
  }

  isReady(): boolean {
    return this.models.size > 0 && [...this.models.values()].every((m) => m.availableVersions().length > 0);
  }

  private statusOf(model: ManagedModel, version?: bigint): ModelStatus {
    const versions = [...model.versions.values()]
      .filter((v) => version === undefined || v.version === version)
      .sort((a, b) => compareVersions(b.version, a.version))
      .map((v) => v.status());
    return { name: model.name, basePath: model.config.basePath, versions, labels: new Map(model.labels) };
  }

  // ---- versions ------------------------------------------------------------------------------

  private startModel(model: ManagedModel): Promise<void> {
    this.options.log.info('model_added', { model: model.name, base_path: model.config.basePath, policy: describePolicy(model.policy) });
    if (this.options.fileSystemPollMs < 0) return Promise.resolve();
    return model.startPolling(this.options.fileSystemPollMs, () => this.poll(model));
  }

  private async poll(model: ManagedModel): Promise<void> {
    const found = await findVersions(model.config.basePath);
    if (model.removed) return;
    if (found.problem) this.options.log.warn('base_path_unreadable', { model: model.name, problem: found.problem });
    for (const { name, reason } of found.skipped) {
      if (reason !== 'not an integer') this.options.log.warn('version_dir_skipped', { model: model.name, dir: name, reason });
    }
    if (!found.problem && found.versions.size === 0) {
      this.options.log.warn('no_versions_found', {
        model: model.name,
        base_path: model.config.basePath,
        message: `No versions of servable ${model.name} found under base path ${model.config.basePath}. ` +
          'Did you forget to name your leaf directory as an integer (e.g. 00000123)?',
      });
    }
    model.onDisk = found.versions;
    this.reconcile(model);
  }

  /** Starts the loads and unloads that move the model towards its aspired versions. */
  private reconcile(model: ManagedModel): void {
    if (model.removed || this.stopped) return;
    const aspired = new Set(aspiredVersions([...model.onDisk.keys()], model.policy));
    // Forget ended versions that left the disk: if one comes back, it is loaded afresh.
    for (const v of [...model.versions.values()]) {
      if (v.state === VersionState.END && !model.onDisk.has(v.version)) model.versions.delete(v.version);
    }
    for (const version of aspired) {
      const current = model.versions.get(version);
      if (current && !(current.state === VersionState.END && !current.error)) continue;
      const managed = new ManagedVersion(version, model.onDisk.get(version)!);
      model.versions.set(version, managed);
      this.track(this.load(model, managed));
    }
    const aspiredAvailable = [...aspired].some((v) => model.versions.get(v)?.state === VersionState.AVAILABLE);
    if (aspired.size > 0 && !aspiredAvailable) return;
    for (const managed of model.versions.values()) {
      if (!aspired.has(managed.version) && managed.state === VersionState.AVAILABLE) this.track(this.unload(model, managed));
    }
  }

  private async load(model: ManagedModel, managed: ManagedVersion): Promise<void> {
    const { log, loader, maxLoadRetries, loadRetryIntervalMs } = this.options;
    managed.state = VersionState.LOADING;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      log.info('version_loading', { model: model.name, version: managed.version, dir: managed.dir, attempt });
      try {
        managed.servable = await loader({ model: model.name, version: managed.version, dir: managed.dir });
        this.options.onLoadAttempt?.(managed.dir, true, performance.now() - started, infoOf(model, managed));
        break;
      } catch (error) {
        const failure = toServingError(error, `Loading servable: {name: ${model.name} version: ${managed.version}}`);
        this.options.onLoadAttempt?.(managed.dir, false, performance.now() - started, infoOf(model, managed));
        const retry = attempt < maxLoadRetries && !model.removed && !this.stopped && !NOT_RETRIED.has(failure.code);
        log.error('version_load_failed', { model: model.name, version: managed.version, attempt, error: failure.toString(), retrying: retry });
        if (!retry) {
          managed.state = VersionState.END;
          managed.error = failure;
          this.reconcile(model);
          return;
        }
        await this.sleep(loadRetryIntervalMs);
      }
    }
    managed.state = VersionState.AVAILABLE;
    log.info('version_available', { model: model.name, version: managed.version });
    if (model.removed || this.stopped || !aspiredVersions([...model.onDisk.keys()], model.policy).includes(managed.version)) {
      // Became unwanted while loading.
      await this.unload(model, managed);
      return;
    }
    this.applyPendingLabels(model);
    this.reconcile(model);
  }

  private async unload(model: ManagedModel, managed: ManagedVersion): Promise<void> {
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
  }

  private removeModel(model: ManagedModel): void {
    model.removed = true;
    model.stopPolling();
    this.models.delete(model.name);
    for (const managed of model.versions.values()) this.track(this.unload(model, managed));
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
