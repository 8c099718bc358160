import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../test/support/corpus.js';
import { FLAGS } from './flag-table.js';

describe('docs/flags.md', () => {
  it('lists every flag of flag-table.ts with its type and default, and no other', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'flags.md'), 'utf8');
    const rows = new Map([...doc.matchAll(/^\| `--([a-z0-9_]+)` \| (\w+) \| ([^|]*?) \| /gm)].map((m) => [m[1]!, { type: m[2]!, default: m[3]! }]));
    assert.deepEqual([...rows.keys()].sort(), Object.keys(FLAGS).sort());
    for (const [name, spec] of Object.entries(FLAGS)) {
      assert.equal(rows.get(name)!.type, spec.type, name);
      assert.equal(rows.get(name)!.default, spec.default, name);
    }
  });
});
