import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TF_SERVING_TESTDATA, itWithSharedModels } from '../../../test/support/shared-savedmodels.js';
import { Code, ServingError } from '../errors.js';
import { batchingConfigFrom, loadBatchingConfig, parseBatchingParameters } from './batching-config.js';


function invalid(text: string): string {
  try {
    batchingConfigFrom(parseBatchingParameters(text), 8);
  } catch (error) {
    assert.ok(error instanceof ServingError);
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    return error.message;
  }
  assert.fail(`accepted: ${text}`);
}

describe('batching config', () => {
  it("applies TF Serving's defaults", () => {
    assert.deepEqual(batchingConfigFrom(parseBatchingParameters(''), 6), {
      maxBatchSize: 1000,
      batchTimeoutMicros: 0,
      maxEnqueuedBatches: 10,
      numBatchThreads: 6,
      threadPoolName: 'batch_threads',
      allowedBatchSizes: [],
      padVariableLengthInputs: false,
    });
  });

  it('names the pool model_server_batch_threads when there is no parameters file', async () => {
    const config = await loadBatchingConfig(undefined, 3);
    assert.equal(config.threadPoolName, 'model_server_batch_threads');
    assert.equal(config.numBatchThreads, 3);
  });

  itWithSharedModels("reads TF Serving's own batching_config.txt", async () => {
    const config = await loadBatchingConfig(join(TF_SERVING_TESTDATA, 'batching_config.txt'));
    assert.equal(config.maxBatchSize, 128);
    assert.equal(config.batchTimeoutMicros, 0);
    assert.equal(config.maxEnqueuedBatches, 1000000);
    assert.equal(config.numBatchThreads, 8);
  });

  it('reads every field', () => {
    const config = batchingConfigFrom(
      parseBatchingParameters(`max_batch_size { value: 8 } batch_timeout_micros { value: 500 }
        max_enqueued_batches { value: 3 } num_batch_threads { value: 2 } thread_pool_name { value: "pool" }
        allowed_batch_sizes: 2 allowed_batch_sizes: 8 pad_variable_length_inputs: true`),
    );
    assert.deepEqual(config, {
      maxBatchSize: 8,
      batchTimeoutMicros: 500,
      maxEnqueuedBatches: 3,
      numBatchThreads: 2,
      threadPoolName: 'pool',
      allowedBatchSizes: [2, 8],
      padVariableLengthInputs: true,
    });
  });

  it("refuses bad values with TensorFlow's messages", () => {
    assert.equal(
      invalid('max_batch_size { value: 8 } allowed_batch_sizes: [2, 4]'),
      'Last entry in allowed_batch_sizes must match max_batch_size; last entry was 4; expected 8',
    );
    // Without max_batch_size, the last allowed size must be the default 1000.
    assert.equal(invalid('allowed_batch_sizes: [2, 4]'), 'Last entry in allowed_batch_sizes must match max_batch_size; last entry was 4; expected 1000');
    assert.doesNotThrow(() => batchingConfigFrom(parseBatchingParameters('allowed_batch_sizes: [2, 1000]')));
    assert.equal(invalid('max_batch_size { value: 4 } allowed_batch_sizes: [4, 2, 4]'), 'allowed_batch_sizes entries must be monotonically increasing');
    assert.equal(invalid('num_batch_threads { value: 0 }'), 'num_batch_threads must be positive; was 0');
    assert.equal(invalid('max_batch_size { value: 0 }'), 'input_batch_size_limit must be positive; was 0');
    assert.equal(invalid('batch_timeout_micros { value: -1 }'), 'batch_timeout_micros must be non-negative; was -1');
    assert.equal(invalid('max_enqueued_batches { value: 0 }'), 'max_enqueued_batches must be positive; was 0');
  });

  it('reports unreadable and malformed files', async () => {
    await assert.rejects(loadBatchingConfig('/nonexistent/batching.txt'), /Could not read batching parameters file/);
    const path = join(mkdtempSync(join(tmpdir(), 'tfmodel-batching-')), 'bad.txt');
    writeFileSync(path, 'max_batch_size: 3');
    await assert.rejects(loadBatchingConfig(path), (error: ServingError) => {
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /^Invalid protobuf file: '.*bad\.txt'/);
      return true;
    });
  });
});
