import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TFJS_CONVERTER_OPS } from './tfjs-op-list.js';

describe('TFJS_CONVERTER_OPS', () => {
  it('matches the op tables of the installed @tensorflow/tfjs-converter', () => {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve('@tensorflow/tfjs-converter/package.json'));
    const dir = join(root, 'dist', 'operations', 'op_list');
    const installed = new Set<string>();
    // ragged.js exists but tfjs-converter's OperationMapper does not load it.
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'ragged.js')) {
      for (const match of readFileSync(join(dir, file), 'utf8').matchAll(/'tfOpName': '([^']+)'/g)) installed.add(match[1]!);
    }
    assert.ok(installed.size > 200, `read only ${installed.size} ops from ${dir}`);
    assert.deepEqual([...TFJS_CONVERTER_OPS].sort(), [...installed].sort());
  });
});
