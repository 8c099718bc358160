/**
 * Finds the versions of a model on disk: the children of its base path whose names are integers
 * ("00000123" is version 123). Version directories must resolve inside the base path.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

export interface FoundVersions {
  /** version -> its directory. */
  readonly versions: Map<bigint, string>;
  /** Why nothing could be listed (missing base path, permissions); versions is then empty. */
  readonly problem?: string;
  /** Entries skipped, with the reason (not numeric, escapes the base path, not a directory). */
  readonly skipped: Array<{ name: string; reason: string }>;
}

const VERSION_NAME = /^\d+$/;

export async function findVersions(basePath: string): Promise<FoundVersions> {
  const versions = new Map<bigint, string>();
  const skipped: Array<{ name: string; reason: string }> = [];
  let base: string;
  let names: string[];
  try {
    base = await realpath(basePath);
    names = await readdir(base);
  } catch (error) {
    return { versions, skipped, problem: `Could not list base path ${basePath}: ${(error as Error).message}` };
  }
  for (const name of names) {
    if (!VERSION_NAME.test(name)) {
      skipped.push({ name, reason: 'not an integer' });
      continue;
    }
    const dir = join(base, name);
    try {
      const resolved = await realpath(dir);
      if (!resolved.startsWith(base + sep)) {
        skipped.push({ name, reason: `resolves outside the base path (${resolved})` });
        continue;
      }
      if (!(await stat(resolved)).isDirectory()) {
        skipped.push({ name, reason: 'not a directory' });
        continue;
      }
    } catch (error) {
      skipped.push({ name, reason: (error as Error).message });
      continue;
    }
    const version = BigInt(name);
    // "0123" and "123" are the same version; keep the first listed, like TF Serving.
    if (!versions.has(version)) versions.set(version, dir);
  }
  return { versions, skipped };
}
