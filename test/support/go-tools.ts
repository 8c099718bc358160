/**
 * The Go-built test servers (versitygw, fake-gcs-server, the OpenTelemetry Collector): each has a
 * scripts/<dir>/build.sh that builds it from the Go module proxy into the cache, and whose
 * `--check` prints the cached binary's path (or fails when it is not built).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './corpus.js';
import { requirePrerequisite } from './prerequisites.js';

/** The binary scripts/<scriptDir>/build.sh has built, or why it is missing (throws under CI). */
export function cachedGoTool(what: string, scriptDir: string): { value?: string; skipReason?: string } {
  const script = join(REPO_ROOT, 'scripts', scriptDir, 'build.sh');
  return requirePrerequisite(what, `run bash scripts/${scriptDir}/build.sh (Go, the Go module proxy)`, () =>
    execFileSync('bash', [script, '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!,
  );
}
