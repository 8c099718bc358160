import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from '../../../gen/tensorflow/core/framework/tensor_pb.js';
import { DataType } from './dtypes.js';
import { dataFromBytes, tensorFromProto } from './host-tensor.js';

const shape = (...dims: number[]) => ({ dim: dims.map((size) => ({ size: BigInt(size), name: '' })) });

describe('tensorFromProto', () => {
  it('repeats the last typed value to fill the tensor, like TensorFlow', () => {
    const t = tensorFromProto(create(TensorProtoSchema, { dtype: DataType.DT_FLOAT, tensorShape: shape(2, 2), floatVal: [1.5, 2] }));
    assert.deepEqual(Array.from(t.data as Float32Array), [1.5, 2, 2, 2]);
    const zeros = tensorFromProto(create(TensorProtoSchema, { dtype: DataType.DT_INT32, tensorShape: shape(3) }));
    assert.deepEqual(Array.from(zeros.data as Int32Array), [0, 0, 0]);
  });

  it('reads tensor_content as little-endian bytes, int64 and strings', () => {
    const bytes = new Uint8Array(new BigInt64Array([5n, -1n]).buffer);
    const t = tensorFromProto(create(TensorProtoSchema, { dtype: DataType.DT_INT64, tensorShape: shape(2), tensorContent: bytes }));
    assert.deepEqual(Array.from(t.data as BigInt64Array), [5n, -1n]);
    const s = tensorFromProto(create(TensorProtoSchema, { dtype: DataType.DT_STRING, tensorShape: shape(2), stringVal: [Uint8Array.of(97), Uint8Array.of(98)] }));
    assert.deepEqual((s.data as Uint8Array[]).map((b) => String.fromCharCode(...b)), ['a', 'b']);
  });

  it('refuses more values than elements and byte counts that do not match', () => {
    assert.throws(() => tensorFromProto(create(TensorProtoSchema, { dtype: DataType.DT_FLOAT, tensorShape: shape(1), floatVal: [1, 2] })), RangeError);
    assert.throws(() => dataFromBytes(DataType.DT_FLOAT, 2, new Uint8Array(7)), RangeError);
  });
});
