/** Memory decisions of the transition policy in words: the log's `reason` and a waiting version's status message. */
import type { MemoryDecision } from './transition-policy.js';

/** Bytes as people read them: MiB with one decimal (GiB above 10 GiB). */
export function formatBytes(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return mib >= 10 * 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib.toFixed(1)} MiB`;
}

export function describeMemoryDecision(decision: MemoryDecision): string {
  const over =
    `loading version ${decision.version} beside what is loaded needs an estimated ${formatBytes(decision.neededBytes)}, ` +
    `over the model memory budget of ${formatBytes(decision.budgetBytes)}`;
  switch (decision.kind) {
    case 'unload-first':
      return `${over}: the versions no longer aspired are unloaded first (resource-preserving order)`;
    case 'over-budget':
      return `${over}, and no version of this model can make room: loading it anyway`;
    case 'wait': {
      const labelled = (decision.labelled ?? []).map((l) => `version ${l.version} (label${l.labels.length > 1 ? 's' : ''} ${l.labels.join(', ')})`);
      return (
        `Waiting for memory: ${over}, and unloading first is not possible while a label names ${labelled.join(' and ')}; ` +
        'the load starts once no label names it (or with a larger --model_memory_budget_bytes)'
      );
    }
  }
}
