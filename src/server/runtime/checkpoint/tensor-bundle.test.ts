import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Code, ServingError } from '../../errors.js';
import { DataType } from '../tensor/dtypes.js';
import { TableFormatError, readTable } from './leveldb-table.js';
import { TensorBundle } from './tensor-bundle.js';
import { HALF_PLUS_TWO, HALF_PLUS_TWO_TF2_BASE } from '../../../../test/support/test-models.js';

// Checkpoints written by TensorFlow (test/models/generate.py).
const TF1 = join(HALF_PLUS_TWO, 'variables', 'variables');
const TF2 = join(HALF_PLUS_TWO_TF2_BASE, '00000123', 'variables', 'variables');

describe('LevelDB table reader', () => {
  it('reads every key of a TensorFlow-written index in order, prefix-compressed keys included', () => {
    const keys = readTable(readFileSync(`${TF2}.index`)).map((e) => new TextDecoder().decode(e.key));
    assert.deepEqual(keys, ['', '_CHECKPOINTABLE_OBJECT_GRAPH', 'a/.ATTRIBUTES/VARIABLE_VALUE', 'b/.ATTRIBUTES/VARIABLE_VALUE', 'c/.ATTRIBUTES/VARIABLE_VALUE']);
  });

  it('rejects a bad magic number and a block whose checksum does not match', () => {
    const file = readFileSync(`${TF1}.index`);
    const badMagic = Uint8Array.from(file);
    badMagic[badMagic.length - 1] ^= 1;
    assert.throws(() => readTable(badMagic), (e) => e instanceof TableFormatError && /magic/.test(e.message));
    const badBlock = Uint8Array.from(file);
    badBlock[3] ^= 0x40;
    assert.throws(() => readTable(badBlock), (e) => e instanceof TableFormatError && /checksum/.test(e.message));
  });
});

describe('TensorBundle', () => {
  it('reads TF1 variables with their dtype and shape', async () => {
    const bundle = await TensorBundle.open(TF1);
    assert.deepEqual(bundle.keys().sort(), ['a', 'b', 'c']);
    const values = await bundle.readMany(['a', 'b', 'c']);
    for (const [key, want] of [['a', 0.5], ['b', 2], ['c', 3]] as const) {
      const t = values.get(key)!;
      assert.equal(t.dtype, DataType.DT_FLOAT);
      assert.deepEqual(t.shape, []);
      assert.deepEqual(Array.from(t.data as Float32Array), [want]);
    }
  });

  it('reads a string tensor (the TF2 object graph) and verifies its checksum', async () => {
    const bundle = await TensorBundle.open(TF2);
    const graph = await bundle.read('_CHECKPOINTABLE_OBJECT_GRAPH');
    assert.equal(graph.dtype, DataType.DT_STRING);
    assert.ok((graph.data as Uint8Array[])[0]!.length > 100);
  });

  it('reports an unknown key as NOT_FOUND', async () => {
    const bundle = await TensorBundle.open(TF1);
    await assert.rejects(bundle.read('nope'), (e) => e instanceof ServingError && e.code === Code.NOT_FOUND);
  });
});
