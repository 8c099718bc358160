import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema } from '../../gen/tensorflow/core/framework/tensor_pb.js';
import { Code, ServingError } from '../errors.js';
import { DataType } from '../runtime/tensor/dtypes.js';
import type { HostTensor } from '../runtime/tensor/host-tensor.js';
import { hostTensorFromProto, hostTensorToContentProto, hostTensorToProto } from './tensor-proto.js';

describe('TensorProto conversion', () => {
  const cases: HostTensor[] = [
    { dtype: DataType.DT_FLOAT, shape: [2, 1], data: Float32Array.from([2.5, -1]) },
    { dtype: DataType.DT_DOUBLE, shape: [1], data: Float64Array.from([0.1]) },
    { dtype: DataType.DT_INT64, shape: [2], data: BigInt64Array.from([1n << 40n, -3n]) },
    { dtype: DataType.DT_UINT8, shape: [3], data: Uint8Array.from([0, 128, 255]) },
    { dtype: DataType.DT_BOOL, shape: [2], data: Uint8Array.from([1, 0]) },
    { dtype: DataType.DT_STRING, shape: [2], data: [Uint8Array.of(0, 255), Uint8Array.of()] },
  ];
  for (const tensor of cases) {
    it(`round-trips ${DataType[tensor.dtype]} through the typed fields`, () => {
      const back = hostTensorFromProto(hostTensorToProto(tensor), 'x');
      assert.deepEqual({ ...back, data: Array.from(back.data as ArrayLike<unknown>) }, { ...tensor, data: Array.from(tensor.data as ArrayLike<unknown>) });
    });
  }

  it('accepts tensor_content and reports malformed tensors as INVALID_ARGUMENT naming the input', () => {
    const ok = hostTensorFromProto(create(TensorProtoSchema, {
      dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 2n, name: '' }] }, tensorContent: new Uint8Array(Float32Array.from([1, 2]).buffer),
    }), 'x');
    assert.deepEqual(Array.from(ok.data as Float32Array), [1, 2]);
    assert.throws(
      () => hostTensorFromProto(create(TensorProtoSchema, { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 2n, name: '' }] }, tensorContent: new Uint8Array(5) }), 'x'),
      (e) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && /tensor parsing error: x/.test(e.message),
    );
    assert.throws(
      () => hostTensorFromProto(create(TensorProtoSchema, { dtype: DataType.DT_VARIANT }), 'v'),
      (e) => e instanceof ServingError && e.code === Code.UNIMPLEMENTED,
    );
  });

  it('encodes tensor_content as Tensor::AsProtoTensorContent does', () => {
    // Bytes of TensorProto.tensor_content from TensorFlow 2.21's tf.io.serialize_tensor (which calls
    // AsProtoTensorContent) on the same values.
    const hex = (t: HostTensor) => Buffer.from(hostTensorToContentProto(t).tensorContent).toString('hex');
    assert.equal(hex({ dtype: DataType.DT_FLOAT, shape: [2], data: Float32Array.of(1.5, 2.0) }), '0000c03f00000040');
    assert.equal(hex({ dtype: DataType.DT_BOOL, shape: [2], data: Uint8Array.of(1, 0) }), '0100');
    assert.equal(hex({ dtype: DataType.DT_INT64, shape: [2], data: BigInt64Array.of(7n, -1n) }), '0700000000000000ffffffffffffffff');
    const strings = hostTensorToContentProto({ dtype: DataType.DT_STRING, shape: [2], data: [Uint8Array.of(0x61), Uint8Array.of(0x62, 0x63, 0x64)] });
    assert.deepEqual([strings.tensorContent.length, strings.stringVal.map((s) => Buffer.from(s).toString())], [0, ['a', 'bcd']]);
  });
});
