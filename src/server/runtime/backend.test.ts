import assert from 'node:assert/strict';
import { chooseBackend, nativeFallbackFor, parseRuntimeSelection } from './backend.js';
import { MissingOpsError, isMissingOpsError } from './tfjs/missing-ops.js';
import { importNativePackage, installedNativePackages } from './native/native-package.js';
import { Code, ServingError } from '../errors.js';

describe('backend selection', () => {
  it('auto prefers native TensorFlow (the -gpu package first) and falls back to wasm', () => {
    assert.deepEqual(chooseBackend('auto', []), { backend: 'wasm' });
    assert.deepEqual(chooseBackend('auto', ['@tensorflow/tfjs-node']), { backend: 'tensorflow', nativePackage: '@tensorflow/tfjs-node' });
    assert.deepEqual(chooseBackend('auto', ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']), {
      backend: 'tensorflow', nativePackage: '@tensorflow/tfjs-node-gpu',
    });
  });

  it('honours an explicit choice and explains a missing native package', () => {
    assert.deepEqual(chooseBackend('cpu', ['@tensorflow/tfjs-node-gpu']), { backend: 'cpu' });
    assert.deepEqual(chooseBackend('wasm', ['@tensorflow/tfjs-node']), { backend: 'wasm' });
    assert.throws(() => chooseBackend('tensorflow', []), /needs @tensorflow\/tfjs-node-gpu or @tensorflow\/tfjs-node installed/);
  });

  it('auto (only) hands a model the portable engine lacks ops for to an installed native engine', () => {
    assert.equal(nativeFallbackFor('auto', []), undefined);
    assert.equal(nativeFallbackFor('auto', ['@tensorflow/tfjs-node']), '@tensorflow/tfjs-node');
    assert.equal(nativeFallbackFor('wasm', ['@tensorflow/tfjs-node']), undefined);
    assert.equal(nativeFallbackFor('cpu', ['@tensorflow/tfjs-node-gpu']), undefined);
    const error = new MissingOpsError(new Map([['DecodeJpeg', ['"decode"']]]));
    assert.ok(isMissingOpsError(error));
    // As it arrives from a worker thread: a plain ServingError with the same code and message.
    assert.ok(isMissingOpsError(new ServingError(error.code, error.message)));
    assert.ok(!isMissingOpsError(new ServingError(Code.UNIMPLEMENTED, 'Vocabulary tables of DT_HALF are not supported')));
  });

  it('parses --runtime values', () => {
    assert.equal(parseRuntimeSelection('tensorflow'), 'tensorflow');
    assert.equal(parseRuntimeSelection('gpu'), undefined);
  });

  it('finds installed native packages by module resolution', async () => {
    assert.deepEqual(await installedNativePackages((s) => s === '@tensorflow/tfjs-node'), ['@tensorflow/tfjs-node']);
    assert.deepEqual(await installedNativePackages(), [], 'neither package can be installed on these machines');
  });

  it('reports a package that resolves but cannot load as FAILED_PRECONDITION', async () => {
    await assert.rejects(
      importNativePackage('@tensorflow/tfjs-node-gpu', () => Promise.reject(new Error('libtensorflow.so.2: cannot open shared object file'))),
      (e) => e instanceof ServingError && e.code === Code.FAILED_PRECONDITION && /libtensorflow/.test(e.message),
    );
    await assert.rejects(importNativePackage('@tensorflow/tfjs-node', () => Promise.resolve({})), /does not provide tf.node.loadSavedModel/);
  });
});
