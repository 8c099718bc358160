import assert from 'node:assert/strict';
import { Code, ServingError } from '../errors.js';
import { encodeTfRecords, readTfRecords } from './tfrecord.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function dataLossMessage(file: Uint8Array): string {
  try {
    readTfRecords(file);
  } catch (error) {
    assert.ok(error instanceof ServingError);
    assert.equal(error.code, Code.DATA_LOSS);
    return error.message;
  }
  assert.fail('read a damaged file');
}

describe('TFRecord', () => {
  it('round-trips records, empty ones included', () => {
    const records = [bytes('first'), new Uint8Array(0), bytes('x'.repeat(300))];
    assert.deepEqual(readTfRecords(encodeTfRecords(records)), records);
    assert.deepEqual(readTfRecords(new Uint8Array(0)), []);
  });

  it('matches the bytes TensorFlow writes for a record', () => {
    // tf.io.TFRecordWriter writing b"abc": length 3, masked crc32c of the length, data, masked crc32c of the data.
    const expected = Buffer.from('0300000000000000b099490e6162636e57f121', 'hex');
    assert.deepEqual(Buffer.from(encodeTfRecords([bytes('abc')])), expected);
  });

  it("reports damage with TensorFlow's messages and offsets", () => {
    const file = encodeTfRecords([bytes('one'), bytes('two')]);
    const second = 12 + 3 + 4;
    assert.equal(dataLossMessage(file.subarray(0, file.length - 2)), `truncated record at ${second}`);
    assert.equal(dataLossMessage(file.subarray(0, second + 5)), `truncated record at ${second}`);
    const badHeader = file.slice();
    badHeader[second + 9]! ^= 0xff;
    assert.equal(dataLossMessage(badHeader), `corrupted record at ${second}`);
    const badData = file.slice();
    badData[second + 12]! ^= 0xff;
    assert.equal(dataLossMessage(badData), `corrupted record at ${second + 12}`);
    assert.equal(dataLossMessage(bytes('not a tfrecord file at all')), 'corrupted record at 0');
  });
});
