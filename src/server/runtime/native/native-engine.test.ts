/**
 * The native adapter against a fake tfjs-node module (the real one cannot install here): it must
 * take signatures from our own reader, convert inputs with range checks, map outputs by alias and
 * dispose what it creates.
 */
import assert from 'node:assert/strict';
import { Code, ServingError } from '../../errors.js';
import { DataType } from '../tensor/dtypes.js';
import { HALF_PLUS_TWO } from '../../../../test/support/test-models.js';
import { NativeEngine } from './native-engine.js';
import type { NativeSavedModel, NativeTensor, NativeTfModule } from './native-package.js';

class FakeTensor implements NativeTensor {
  disposed = false;
  constructor(readonly values: ArrayLike<number>, readonly shape: number[], readonly dtype: string) {}
  async data(): Promise<ArrayLike<number>> {
    return this.values;
  }
  dispose(): void {
    this.disposed = true;
  }
}

function fakeModule(created: FakeTensor[], loaded: Array<{ signature: string; tags: string[] }>): NativeTfModule {
  return {
    tensor: (values, shape, dtype) => {
      const t = new FakeTensor(values as ArrayLike<number>, shape ?? [], dtype ?? 'float32');
      created.push(t);
      return t;
    },
    node: {
      async loadSavedModel(_path, tags, signature): Promise<NativeSavedModel> {
        loaded.push({ signature: signature!, tags: tags! });
        return {
          predict(inputs) {
            const x = (inputs['x'] ?? inputs['inputs']) as FakeTensor;
            const y = new FakeTensor(Float32Array.from(x.values, (v) => 0.5 * v + 2), x.shape, 'float32');
            created.push(y);
            return y;
          },
          dispose() {},
        };
      },
    },
  };
}

describe('NativeEngine (tfjs-node adapter)', () => {
  it('loads every signature with the tag set and runs them with our validation', async () => {
    const created: FakeTensor[] = [];
    const loaded: Array<{ signature: string; tags: string[] }> = [];
    const engine = await NativeEngine.load(HALF_PLUS_TWO, {
      nativePackage: '@tensorflow/tfjs-node-gpu',
      importer: async () => fakeModule(created, loaded),
    });
    assert.equal(engine.backend, 'tensorflow');
    assert.deepEqual(loaded.map((l) => l.signature), engine.signatures.map((s) => s.key));
    assert.ok(loaded.every((l) => l.tags.join() === 'serve'));

    const out = await engine.run({
      signature: 'serving_default',
      inputs: new Map([['x', { dtype: DataType.DT_FLOAT, shape: [3], data: Float32Array.from([1, 2, 5]) }]]),
    });
    assert.deepEqual(Array.from(out.get('y')!.data as Float32Array), [2.5, 3, 4.5]);
    assert.equal(out.get('y')!.dtype, DataType.DT_FLOAT);
    assert.ok(created.every((t) => t.disposed), 'inputs and outputs are disposed');

    await assert.rejects(
      engine.run({ signature: 'serving_default', inputs: new Map([['x', { dtype: DataType.DT_INT32, shape: [1], data: Int32Array.from([1]) }]]) }),
      (e) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT,
    );
  });
});
