import assert from 'node:assert/strict';
import { chooseBackend, nativeFallbackFor, parseRuntimeSelection } from './backend.js';
import { MissingOpsError, isMissingOpsError } from './tfjs/missing-ops.js';
import { importNativePackage, installedNativePackages, installedNativeProviders } from './native/native-package.js';
import { findAddon } from './native/tf-addon.js';
import { Code, ServingError } from '../errors.js';

describe('backend selection', () => {
  it('auto prefers native TensorFlow (our addon, then the -gpu package) and falls back to wasm', () => {
    assert.deepEqual(chooseBackend('auto', []), { backend: 'wasm' });
    assert.deepEqual(chooseBackend('auto', ['@tensorflow/tfjs-node']), { backend: 'tensorflow', native: '@tensorflow/tfjs-node' });
    assert.deepEqual(chooseBackend('auto', ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']), {
      backend: 'tensorflow', native: '@tensorflow/tfjs-node-gpu',
    });
    assert.deepEqual(chooseBackend('auto', ['@tensorflow/tfjs-node-gpu', 'tfmodel-native']), { backend: 'tensorflow', native: 'tfmodel-native' });
    assert.deepEqual(chooseBackend('tensorflow', ['tfmodel-native']), { backend: 'tensorflow', native: 'tfmodel-native' });
  });

  it('honours an explicit choice and explains a missing native package', () => {
    assert.deepEqual(chooseBackend('cpu', ['@tensorflow/tfjs-node-gpu']), { backend: 'cpu' });
    assert.deepEqual(chooseBackend('wasm', ['@tensorflow/tfjs-node']), { backend: 'wasm' });
    assert.throws(() => chooseBackend('tensorflow', []), /needs tfmodel's native engine \(npm run native:install\) or @tensorflow\/tfjs-node-gpu or @tensorflow\/tfjs-node installed/);
  });

  it('auto (only) hands a model the portable engine lacks ops for to an installed native engine', () => {
    assert.equal(nativeFallbackFor('auto', []), undefined);
    assert.equal(nativeFallbackFor('auto', ['@tensorflow/tfjs-node']), '@tensorflow/tfjs-node');
    assert.equal(nativeFallbackFor('wasm', ['@tensorflow/tfjs-node']), undefined);
    assert.equal(nativeFallbackFor('cpu', ['@tensorflow/tfjs-node-gpu']), undefined);
    assert.equal(nativeFallbackFor('auto', ['@tensorflow/tfjs-node', 'tfmodel-native']), 'tfmodel-native');
    const error = new MissingOpsError(new Map([['DecodeJpeg', ['"decode"']]]));
    assert.ok(isMissingOpsError(error));
    assert.match(error.message, /DecodeJpeg \(node "decode"\)\. TensorFlow's native engine runs every op: build it with `npm run native:install`, then serve with --runtime=tensorflow/);
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

  it("hides the CLI's flags from tfjs-node while it loads (node-pre-gyp's nopt takes --dir for --directory; issue 8, bug 1)", async () => {
    const argv = process.argv;
    process.argv = [argv[0]!, '/usr/bin/saved-model-cli', 'run', '--dir', '/models/m/1', '--tag_set', 'serve'];
    try {
      let seen: string[] = [];
      await importNativePackage('@tensorflow/tfjs-node', async () => {
        seen = [...process.argv];
        return { node: { loadSavedModel: () => Promise.reject(new Error('unused')) }, tensor: () => undefined };
      });
      assert.deepEqual(seen, [argv[0], '/usr/bin/saved-model-cli']);
      assert.deepEqual(process.argv.slice(2), ['run', '--dir', '/models/m/1', '--tag_set', 'serve'], 'restored after the import');
      await assert.rejects(importNativePackage('@tensorflow/tfjs-node', () => Promise.reject(new Error('boom'))));
      assert.equal(process.argv[3], '--dir', 'restored after a failed import');
    } finally {
      process.argv = argv;
    }
  });

  it('lists our addon first among the installed native providers', async () => {
    assert.deepEqual(await installedNativeProviders(() => false, () => '/x/tfmodel_tf.node'), ['tfmodel-native']);
    assert.deepEqual(await installedNativeProviders((s) => s === '@tensorflow/tfjs-node', () => '/x/tfmodel_tf.node'), ['tfmodel-native', '@tensorflow/tfjs-node']);
    assert.deepEqual(await installedNativeProviders(() => false, () => undefined), []);
  });

  it('finds the addon by TFMODEL_NATIVE_ADDON, else in the cache directory (gpu build first)', () => {
    assert.equal(findAddon({ TFMODEL_NATIVE_ADDON: '/opt/tf/tfmodel_tf.node' }, () => false), '/opt/tf/tfmodel_tf.node');
    const present = new Set(['/c/tfmodel/native-cpu/tfmodel_tf.node', '/c/tfmodel/native-gpu/tfmodel_tf.node']);
    assert.equal(findAddon({ XDG_CACHE_HOME: '/c' }, (p) => present.has(p)), '/c/tfmodel/native-gpu/tfmodel_tf.node');
    assert.equal(findAddon({ TFMODEL_CACHE_DIR: '/c/tfmodel' }, (p) => p.includes('cpu') && present.has(p)), '/c/tfmodel/native-cpu/tfmodel_tf.node');
    assert.equal(findAddon({ TFMODEL_CACHE_DIR: '/none' }, () => false), undefined);
  });

  it('reports a package that resolves but cannot load as FAILED_PRECONDITION', async () => {
    await assert.rejects(
      importNativePackage('@tensorflow/tfjs-node-gpu', () => Promise.reject(new Error('libtensorflow.so.2: cannot open shared object file'))),
      (e) => e instanceof ServingError && e.code === Code.FAILED_PRECONDITION && /libtensorflow/.test(e.message),
    );
    await assert.rejects(importNativePackage('@tensorflow/tfjs-node', () => Promise.resolve({})), /does not provide tf.node.loadSavedModel/);
  });
});
