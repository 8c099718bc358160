/** How much memory this process may use: the container's cgroup limit, else physical memory. */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

const CGROUP_LIMIT_FILES = [
  '/sys/fs/cgroup/memory.max', // cgroup v2
  '/sys/fs/cgroup/memory/memory.limit_in_bytes', // cgroup v1
];

/** The cgroup memory limit in bytes, or undefined when there is none (or it is above physical memory). */
export function cgroupMemoryLimit(files: readonly string[] = CGROUP_LIMIT_FILES): number | undefined {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    if (text === 'max') return undefined;
    const limit = Number(text);
    // cgroup v1 writes "no limit" as a huge number (PAGE_COUNTER_MAX pages).
    if (Number.isSafeInteger(limit) && limit > 0 && limit < totalmem()) return limit;
    return undefined;
  }
  return undefined;
}

/** The memory available to this process: the cgroup limit, else physical memory. */
export function availableMemoryBytes(): number {
  return cgroupMemoryLimit() ?? totalmem();
}
