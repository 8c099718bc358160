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
}

export interface ModelSnapshot {
  readonly policy: TransitionPolicyKind;
  readonly versions: readonly VersionSnapshot[];
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
