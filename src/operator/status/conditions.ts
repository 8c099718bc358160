/** Status conditions per the Kubernetes API conventions: keyed by type, transitions timestamped. */
import type { Condition } from '../api/tfmodel.js';

export type ConditionType = 'Ready' | 'ConfigApplied' | 'Promoting' | 'PromotionBlocked' | 'Degraded' | 'RolloutFailed';

export interface ConditionUpdate {
  readonly type: ConditionType;
  readonly status: boolean | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/**
 * The new condition list: lastTransitionTime moves only when a condition's status flips, so a
 * reason or message update does not look like a transition.
 */
export function mergeConditions(previous: readonly Condition[], updates: readonly ConditionUpdate[], generation: number, now: Date): Condition[] {
  return updates.map((update) => {
    const status: Condition['status'] = update.status === 'Unknown' ? 'Unknown' : update.status ? 'True' : 'False';
    const before = previous.find((c) => c.type === update.type);
    return {
      type: update.type,
      status,
      observedGeneration: generation,
      lastTransitionTime: before && before.status === status ? before.lastTransitionTime : now.toISOString(),
      reason: update.reason,
      message: update.message.length > 32768 ? `${update.message.slice(0, 32765)}...` : update.message,
    };
  });
}

export function conditionOf(conditions: readonly Condition[] | undefined, type: ConditionType): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
