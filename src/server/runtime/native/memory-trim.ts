/**
 * Handing freed heap back to the system after a native session closes.
 *
 * TensorFlow frees a session's graph, kernels and buffers with free(); glibc keeps those pages in
 * its arenas (TensorFlow's threads allocate from many) for the next malloc, so without a trim the
 * process' RSS keeps what the largest versions ever held, and grows with arena fragmentation over
 * reloads. After a session is closed (off the request path: an unload) tfmodel's addon runs
 * malloc_trim(0) on a background thread, which returns the free pages of every arena. Measured in
 * docs/memory.md (`BENCH_SECTIONS=cycles npm run bench:memory`).
 *
 * TFMODEL_TRIM_MEMORY=0 turns it off (the bench's A/B; a deployment that prefers to keep the pages).
 */
import type { TfAddon } from './tf-addon.js';

/** Whether a closed session is followed by a trim (TFMODEL_TRIM_MEMORY, default on). */
export function trimsAfterClose(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['TFMODEL_TRIM_MEMORY'] !== '0';
}

/**
 * Trims the allocator through the addon: true when pages were returned, false when none were, the
 * addon predates trimMemory, or the trim failed (a trim is an optimisation: never an unload error).
 */
export async function trimAllocator(addon: Pick<TfAddon, 'trimMemory'>): Promise<boolean> {
  if (!addon.trimMemory) return false;
  try {
    return await addon.trimMemory();
  } catch {
    return false;
  }
}
