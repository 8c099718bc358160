/**
 * What every archive extraction refuses, whatever the format: an entry whose name leaves the
 * destination (absolute, `..`, a drive or backslash path), a link or device, and more bytes or
 * entries than the bounds allow (a decompression bomb). Errors say which entry and why.
 */
import { join, relative, sep } from 'node:path';

export interface ExtractLimits {
  /** The most bytes all entries may expand to. */
  readonly maxBytes: number;
  /** The most entries. */
  readonly maxEntries: number;
}

export class ArchiveRefused extends Error {
  override readonly name = 'ArchiveRefused';
}

/** The local path of an entry under `dest`, or an ArchiveRefused for a name that escapes it. */
export function entryPath(dest: string, name: string): string {
  if (name.includes('\0') || name.includes('\\')) throw new ArchiveRefused(`entry "${name}" has a backslash or NUL in its name`);
  if (name.startsWith('/') || /^[a-z]:/i.test(name)) throw new ArchiveRefused(`entry "${name}" is an absolute path`);
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new ArchiveRefused(`entry "${name}" escapes the archive's directory (..)`);
  const path = join(dest, ...segments);
  const rel = relative(dest, path);
  if (rel.startsWith('..') || rel.split(sep).includes('..')) throw new ArchiveRefused(`entry "${name}" escapes the archive's directory`);
  return path;
}

/** Counts entries and bytes against the limits as they are extracted. */
export class ExtractBudget {
  bytes = 0;
  entries = 0;

  constructor(private readonly limits: ExtractLimits) {}

  entry(name: string): void {
    if (++this.entries > this.limits.maxEntries) throw new ArchiveRefused(`more than ${this.limits.maxEntries} entries (at "${name}")`);
  }

  /** Refuses `bytes` more (a size declared ahead) without counting them. */
  check(name: string, bytes: number): void {
    if (this.bytes + bytes > this.limits.maxBytes) throw new ArchiveRefused(`expands past ${this.limits.maxBytes} bytes (at "${name}"; --model_cache_max_bytes)`);
  }

  add(name: string, bytes: number): void {
    this.check(name, bytes);
    this.bytes += bytes;
  }
}
