import assert from 'node:assert/strict';
import { applyTensorflowEnvDefaults } from './tensorflow-env.js';

describe('applyTensorflowEnvDefaults', () => {
  it('turns oneDNN off when the environment does not say', () => {
    const env: NodeJS.ProcessEnv = {};
    assert.deepEqual(applyTensorflowEnvDefaults(env), { TF_ENABLE_ONEDNN_OPTS: '0' });
    assert.equal(env['TF_ENABLE_ONEDNN_OPTS'], '0');
  });

  it('keeps what the operator set', () => {
    const env: NodeJS.ProcessEnv = { TF_ENABLE_ONEDNN_OPTS: '1' };
    assert.deepEqual(applyTensorflowEnvDefaults(env), {});
    assert.equal(env['TF_ENABLE_ONEDNN_OPTS'], '1');
  });
});
