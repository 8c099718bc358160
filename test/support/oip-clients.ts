/** The Open Inference Protocol's real Python clients (tritonclient, kserve), in their own venv. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './corpus.js';
import { requirePrerequisite } from './prerequisites.js';

/** The clients venv's python (created on first use), or a skip reason (throws under CI=true). */
export function oipClientsPython(): { python?: string; skipReason?: string } {
  const result = requirePrerequisite('the OIP Python clients (tritonclient, kserve)', 'they need python3 with venv/pip and PyPI access', () => {
    const out = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'python-env.sh'), 'clients'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return join(out.trim().split('\n').pop()!, 'bin', 'python');
  });
  return { python: result.value, skipReason: result.skipReason };
}
