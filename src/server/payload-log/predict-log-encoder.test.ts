import assert from 'node:assert/strict';
import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { PredictionLogSchema } from '../../gen/tensorflow_serving/apis/prediction_log_pb.js';
import { LoggingConfigSchema } from '../../gen/tensorflow_serving/config/logging_config_pb.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { callPrefix, encodable, encodePredictLog } from './predict-log-encoder.js';
import { predictLog } from './prediction-logs.js';

const utf8 = new TextEncoder();
const config = create(LoggingConfigSchema, { samplingConfig: { samplingRate: 0.25 }, logCollectorConfig: { type: 'tfrecord', filenamePrefix: '/logs/m' } });

function tensors(entries: Array<[string, HostTensor]>): Map<string, HostTensor> {
  return new Map(entries);
}

const CASES: Array<{ name: string; inputs: Map<string, HostTensor>; filter?: string[]; outputs: Map<string, HostTensor> }> = [
  {
    name: 'half_plus_two',
    inputs: tensors([['x', { dtype: DataType.DT_FLOAT, shape: [3], data: Float32Array.of(1, 2, 5) }]]),
    outputs: tensors([['y', { dtype: DataType.DT_FLOAT, shape: [3], data: Float32Array.of(2.5, 3, 4.5) }]]),
  },
  {
    name: 'every fixed-size dtype, scalars, empty and large tensors, an output filter',
    inputs: tensors([
      ['f64', { dtype: DataType.DT_DOUBLE, shape: [2, 1], data: Float64Array.of(Math.PI, -0) }],
      ['i64', { dtype: DataType.DT_INT64, shape: [2], data: BigInt64Array.of(-(1n << 62n), 7n) }],
      ['u64', { dtype: DataType.DT_UINT64, shape: [], data: BigUint64Array.of((1n << 64n) - 1n) }],
      ['i32', { dtype: DataType.DT_INT32, shape: [1, 1, 1], data: Int32Array.of(-5) }],
      ['i8', { dtype: DataType.DT_INT8, shape: [2], data: Int8Array.of(-128, 127) }],
      ['u16', { dtype: DataType.DT_UINT16, shape: [1], data: Uint16Array.of(65535) }],
      ['half', { dtype: DataType.DT_HALF, shape: [2], data: Uint16Array.of(0x3c00, 0xc000) }],
      ['bool', { dtype: DataType.DT_BOOL, shape: [3], data: Uint8Array.of(1, 0, 1) }],
      ['empty', { dtype: DataType.DT_FLOAT, shape: [0, 4], data: new Float32Array(0) }],
      ['big', { dtype: DataType.DT_FLOAT, shape: [1, 300, 300], data: Float32Array.from({ length: 90_000 }, (_, i) => i / 7) }],
    ]),
    filter: ['out_b', 'out_a'],
    outputs: tensors([
      ['out_b', { dtype: DataType.DT_INT32, shape: [129], data: Int32Array.from({ length: 129 }, (_, i) => i - 64) }],
      ['out_a', { dtype: DataType.DT_COMPLEX64, shape: [1], data: Float32Array.of(1, -1) }],
    ]),
  },
  {
    name: 'strings (string_val), empty and non-ASCII, and an empty alias',
    inputs: tensors([['', { dtype: DataType.DT_STRING, shape: [3], data: [utf8.encode('héllo'), new Uint8Array(0), new Uint8Array(200).fill(7)] }]]),
    outputs: tensors([['classes', { dtype: DataType.DT_STRING, shape: [1, 1], data: [utf8.encode('a')] }]]),
  },
];

describe('encodePredictLog', () => {
  for (const c of CASES) {
    it(`writes the bytes protobuf-es writes for predictLog(): ${c.name}`, () => {
      for (const call of [{ model: 'm', version: 123n, signatureName: 'serving_default' }, { model: 'ünïcode', version: (1n << 40n) + 3n, signatureName: '' }]) {
        const expected = toBinary(PredictionLogSchema, predictLog(call, config, c.inputs, c.filter, c.outputs));
        const actual = encodePredictLog(callPrefix(call, config), c.inputs, c.filter, c.outputs);
        assert.deepEqual(Buffer.from(actual), Buffer.from(expected));
        assert.ok(equals(PredictionLogSchema, fromBinary(PredictionLogSchema, actual), predictLog(call, config, c.inputs, c.filter, c.outputs)));
      }
    });
  }

  it('says which tensors it cannot write (those go through protobuf-es)', () => {
    assert.equal(encodable(CASES[1]!.inputs), true);
    assert.equal(encodable(tensors([['r', { dtype: DataType.DT_RESOURCE, shape: [], data: new Uint8Array(0) } as unknown as HostTensor]])), false);
  });
});
