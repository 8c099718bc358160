/**
 * The version-transition policy: given where each version of one model stands, which loads and
 * unloads may start now. Pure (no I/O, no clock), after TF Serving's AspiredVersionPolicy
 * (core/aspired_version_policy.h) and its two implementations:
 *
 * - availability-preserving (TF Serving's default): a model never goes without a serving version
 *   because a new one is loading or failed. The newest new aspired version is loaded first; a
 *   version no longer aspired is unloaded (lowest first) once an aspired version is AVAILABLE, or
 *   nothing is aspired any more, or more than one unaspired version is still AVAILABLE (all but
 *   one may go).
 * - resource-preserving: never two versions in memory at once. Versions no longer aspired are
 *   unloaded first, and a new aspired version is loaded only once none of them is still loading,
 *   serving or unloading (a gap in availability, but peak memory of one version).
 *
 * TF Serving's GetNextAction answers one action per call and its manager calls it again after
 * acting; `nextActions` does that loop on a copy of the snapshot (a started load counts as
 * LOADING, a started unload as UNLOADING), so every action that may start now is returned.
 *
 * Ours, for TF Serving's doubled memory on reload (tensorflow/serving#2017): `planTransitions`
 * takes each version's estimated footprint and the memory budget. When the availability-preserving
 * order would load a version beside old ones and the sum would exceed the budget, the model
 * switches to resource-preserving order for that transition (unload, then load), unless a label
 * still names an old version that would have to go first: then the load waits, and the plan says
 * why. The budget never refuses a load that nothing of this model could make room for (a first
 * load, or every version held is still aspired): estimates are estimates, and TF Serving loads.
 */
import { VersionState } from './types.js';

export type TransitionPolicyKind = 'availability-preserving' | 'resource-preserving';

export interface VersionSnapshot {
  readonly version: bigint;
  /**
   * START: known to the manager, nothing done yet (TF Serving's kNew); LOADING (queued or
   * loading); AVAILABLE; UNLOADING; END: unloaded, or failed to load (`failed`).
   */
  readonly state: VersionState;
  /** The source still wants this version served. */
  readonly aspired: boolean;
  /** END because its load failed for good (TF Serving's kError); otherwise unloaded (kDisabled). */
  readonly failed?: boolean;
  /** Estimated resident bytes of this version (held while LOADING, AVAILABLE or UNLOADING). */
  readonly bytes?: number;
  /** The model's labels naming this version. */
  readonly labels?: readonly string[];
}

/** The memory every model shares. */
export interface MemorySnapshot {
  /** What all loaded versions together may hold (--model_memory_budget_bytes, or the cgroup limit's share). */
  readonly budgetBytes: number;
  /** Estimated bytes held by the other models' versions (loading, serving or unloading). */
  readonly otherModelsBytes: number;
}

export interface ModelSnapshot {
  readonly policy: TransitionPolicyKind;
  readonly versions: readonly VersionSnapshot[];
  /** Absent: no memory check (TF Serving's behaviour). */
  readonly memory?: MemorySnapshot;
}

/** Why a transition does not follow the configured order. */
export interface MemoryDecision {
  /** unload-first: resource-preserving order; wait: the load waits for a label to let go; over-budget: loaded anyway. */
  readonly kind: 'unload-first' | 'wait' | 'over-budget';
  /** The version whose load would not fit. */
  readonly version: bigint;
  /** Bytes held after the load: the other models, this model's versions held, and the version. */
  readonly neededBytes: number;
  readonly budgetBytes: number;
  /** wait: the old versions still labelled, with their labels. */
  readonly labelled?: ReadonlyArray<{ readonly version: bigint; readonly labels: readonly string[] }>;
}

export interface TransitionPlan {
  readonly actions: TransitionAction[];
  /** The order the actions follow. */
  readonly order: TransitionPolicyKind;
  readonly memory?: MemoryDecision;
}

export interface TransitionAction {
  readonly kind: 'load' | 'unload';
  readonly version: bigint;
}

/** The one action TF Serving's policy would take next, if any. */
export function nextAction(snapshot: ModelSnapshot): TransitionAction | undefined {
  return snapshot.policy === 'resource-preserving'
    ? resourcePreserving(snapshot.versions)
    : availabilityPreserving(snapshot.versions);
}

/** Every action that may start now, in order (each taken as started before asking again). */
export function nextActions(snapshot: ModelSnapshot): TransitionAction[] {
  const versions = snapshot.versions.map((v) => ({ ...v }));
  const actions: TransitionAction[] = [];
  // Each action moves one version forward (START -> LOADING or AVAILABLE -> UNLOADING), so this ends.
  for (let i = 0; i <= versions.length * 2; i++) {
    const action = nextAction({ policy: snapshot.policy, versions });
    if (!action) break;
    actions.push(action);
    const target = versions.find((v) => v.version === action.version)!;
    target.state = action.kind === 'load' ? VersionState.LOADING : VersionState.UNLOADING;
  }
  return actions;
}

/** Holds memory: a load queued or running, a serving version, or one unloading. */
const HOLDS_MEMORY: ReadonlySet<VersionState> = new Set([VersionState.LOADING, VersionState.AVAILABLE, VersionState.UNLOADING]);

/**
 * The actions that may start now under the configured order and the memory budget (see above).
 * Without `memory` (or under resource-preserving order) it is `nextActions`.
 */
export function planTransitions(snapshot: ModelSnapshot): TransitionPlan {
  const actions = nextActions(snapshot);
  const { memory } = snapshot;
  if (!memory || snapshot.policy === 'resource-preserving') return { actions, order: snapshot.policy };
  let held = memory.otherModelsBytes;
  for (const v of snapshot.versions) if (HOLDS_MEMORY.has(v.state)) held += v.bytes ?? 0;
  const byVersion = new Map(snapshot.versions.map((v) => [v.version, v]));
  for (const action of actions) {
    if (action.kind !== 'load') continue; // an unload frees its memory only once it ended
    const needed = held + (byVersion.get(action.version)?.bytes ?? 0);
    if (needed <= memory.budgetBytes) {
      held = needed;
      continue;
    }
    const base = { version: action.version, neededBytes: needed, budgetBytes: memory.budgetBytes };
    // What resource-preserving order would free (or wait for) first: versions no longer aspired.
    const releasable = snapshot.versions.filter((v) => !v.aspired && HOLDS_MEMORY.has(v.state));
    if (releasable.length === 0) return { actions, order: snapshot.policy, memory: { ...base, kind: 'over-budget' } };
    const labelled = releasable.filter((v) => (v.labels?.length ?? 0) > 0).map((v) => ({ version: v.version, labels: v.labels! }));
    if (labelled.length > 0) {
      // Everything but loads: the model keeps serving what it has until the label moves.
      return { actions: actions.filter((a) => a.kind !== 'load'), order: snapshot.policy, memory: { ...base, kind: 'wait', labelled } };
    }
    return { actions: nextActions({ policy: 'resource-preserving', versions: snapshot.versions }), order: 'resource-preserving', memory: { ...base, kind: 'unload-first' } };
  }
  return { actions, order: snapshot.policy };
}

function availabilityPreserving(versions: readonly VersionSnapshot[]): TransitionAction | undefined {
  const hasAspired = versions.some((v) => v.aspired);
  const hasAspiredServing = versions.some((v) => v.aspired && v.state === VersionState.AVAILABLE);
  const unaspiredServing = versions.filter((v) => !v.aspired && v.state === VersionState.AVAILABLE);
  if (!hasAspired || hasAspiredServing || unaspiredServing.length > 1) {
    const lowest = lowestVersion(unaspiredServing);
    if (lowest !== undefined) return { kind: 'unload', version: lowest };
  }
  return loadHighestNew(versions);
}

function resourcePreserving(versions: readonly VersionSnapshot[]): TransitionAction | undefined {
  const unaspiredServing = versions.find((v) => !v.aspired && v.state === VersionState.AVAILABLE);
  if (unaspiredServing) return { kind: 'unload', version: unaspiredServing.version };
  // An unaspired version still loading or unloading holds memory: wait for it to finish.
  const unfinished = versions.some((v) => !v.aspired && v.state !== VersionState.END && v.state !== VersionState.START);
  if (unfinished) return undefined;
  return loadHighestNew(versions);
}

function loadHighestNew(versions: readonly VersionSnapshot[]): TransitionAction | undefined {
  const highest = highestVersion(versions.filter((v) => v.aspired && v.state === VersionState.START));
  return highest === undefined ? undefined : { kind: 'load', version: highest };
}

function lowestVersion(versions: readonly VersionSnapshot[]): bigint | undefined {
  let lowest: bigint | undefined;
  for (const v of versions) if (lowest === undefined || v.version < lowest) lowest = v.version;
  return lowest;
}

function highestVersion(versions: readonly VersionSnapshot[]): bigint | undefined {
  let highest: bigint | undefined;
  for (const v of versions) if (highest === undefined || v.version > highest) highest = v.version;
  return highest;
}
