/**
 * Tests that need an external tool call `requirePrerequisite`: locally a missing tool skips the
 * suite with a message saying what to install; under CI=true it fails, so CI never passes by
 * silently skipping.
 */
export const IN_CI = process.env['CI'] === 'true';

export class MissingPrerequisite extends Error {
  override readonly name = 'MissingPrerequisite';
}

/** Runs `probe`; on failure, throws (CI) or returns the reason (local, caller skips). */
export function requirePrerequisite<T>(what: string, howToInstall: string, probe: () => T): { value?: T; skipReason?: string } {
  try {
    return { value: probe() };
  } catch (error) {
    const reason = `${what} is unavailable (${(error as Error).message.split('\n')[0]}); ${howToInstall}`;
    if (IN_CI) throw new MissingPrerequisite(reason);
    return { skipReason: reason };
  }
}
