import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from '../../gen/tensorflow/core/framework/tensor_pb.js';
import { Code, ServingError } from '../errors.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import { MAX_FILLED_TENSOR_BYTES, hostTensorFromProto } from './tensor-proto.js';

const proto = (dims: bigint[], fields: Record<string, unknown>) =>
  create(TensorProtoSchema, { tensorShape: { dim: dims.map((size) => ({ size })) }, ...fields });

describe('hostTensorFromProto: filling from fewer values (issue 7 gRPC fuzz finding)', () => {
  it('refuses a huge shape filled from one value with RESOURCE_EXHAUSTED instead of allocating it', () => {
    // The fuzz reproducer: int64 x of shape [2^31] with one value (16 GiB once filled; the server was OOM-killed).
    assert.throws(() => hostTensorFromProto(proto([1n << 31n], { dtype: DataType.DT_INT64, int64Val: [1n] }), 'x'), (error: unknown) => {
      assert.ok(error instanceof ServingError);
      assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
      assert.match(error.message, /^tensor x: shape \[2147483648\] with 1 value\(s\) would be filled to 2147483648 elements/);
      return true;
    });
    const mega = 2n ** 20n;
    const noValues = proto([mega, mega], { dtype: DataType.DT_FLOAT });
    assert.throws(() => hostTensorFromProto(noValues, 'x'), { code: Code.RESOURCE_EXHAUSTED });
    const strings = proto([2n ** 40n], { dtype: DataType.DT_STRING, stringVal: [new Uint8Array([1])] });
    assert.throws(() => hostTensorFromProto(strings, 'x'), { code: Code.RESOURCE_EXHAUSTED });
  });

  it('still fills small tensors from one value, as TensorFlow does', () => {
    const tensor = hostTensorFromProto(proto([2n, 3n], { dtype: DataType.DT_FLOAT, floatVal: [1.5] }), 'x');
    assert.deepEqual([...(tensor.data as Float32Array)], [1.5, 1.5, 1.5, 1.5, 1.5, 1.5]);
    const limit = MAX_FILLED_TENSOR_BYTES / 8;
    assert.equal(hostTensorFromProto(proto([BigInt(limit)], { dtype: DataType.DT_FLOAT, floatVal: [2] }), 'x').shape[0], limit);
  });
});
