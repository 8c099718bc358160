import assert from 'node:assert/strict';
import { Code, ServingError } from '../../errors.js';
import type { TensorSpec } from '../../runtime/savedmodel/signatures.js';
import { DataType } from '../../runtime/tensor/dtypes.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';
import { parseBody } from './json-parse.js';
import { type PredictTensors, needsPreciseNumbers, tensorsFromJson } from './json-tensor.js';
import { predictResponseJson } from './tensor-json.js';

const spec = (alias: string, dtype: DataType): TensorSpec => ({ alias, tensorName: `${alias}:0`, dtype, shape: undefined });

function convert(json: string, inputs: TensorSpec[], signature = ''): PredictTensors {
  const precise = needsPreciseNumbers(inputs);
  return tensorsFromJson(parseBody(json, precise).doc, inputs, signature, json.length);
}

/** Plain view of the converted tensors (typed arrays as arrays, bytes as strings). */
function plain(result: PredictTensors): unknown {
  const tensors: Record<string, unknown> = {};
  for (const [alias, t] of result.inputs) {
    const data = Array.isArray(t.data) ? t.data.map((b) => Buffer.from(b).toString('latin1')) : Array.from(t.data as ArrayLike<unknown>);
    tensors[alias] = { dtype: DataType[t.dtype], shape: t.shape, data };
  }
  return { format: result.format, tensors };
}

function rejects(json: string, inputs: TensorSpec[], message: string, code = Code.INVALID_ARGUMENT): void {
  assert.throws(
    () => convert(json, inputs),
    (e: unknown) => e instanceof ServingError && e.code === code && e.message === message,
    json,
  );
}

const x = [spec('x', DataType.DT_FLOAT)];

describe('REST predict JSON -> tensors', () => {
  it('batches row-format instances and reads columnar inputs, by the signature dtype', () => {
    assert.deepEqual(plain(convert('{"instances": [1, 2, 5]}', x)), {
      format: 'row', tensors: { x: { dtype: 'DT_FLOAT', shape: [3], data: [1, 2, 5] } },
    });
    assert.deepEqual(plain(convert('{"instances": [[1.5], [2]]}', x)), {
      format: 'row', tensors: { x: { dtype: 'DT_FLOAT', shape: [2, 1], data: [1.5, 2] } },
    });
    assert.deepEqual(plain(convert('{"inputs": [[1, 2], [3, NaN]]}', [spec('x', DataType.DT_DOUBLE)])), {
      format: 'columnar', tensors: { x: { dtype: 'DT_DOUBLE', shape: [2, 2], data: [1, 2, 3, NaN] } },
    });
    assert.deepEqual(plain(convert('{"inputs": 7}', [spec('x', DataType.DT_INT32)])), {
      format: 'columnar', tensors: { x: { dtype: 'DT_INT32', shape: [], data: [7] } },
    });
    assert.deepEqual(plain(convert('{"instances": [[]], "signature_name": "s"}', x)), {
      format: 'row', tensors: { x: { dtype: 'DT_FLOAT', shape: [1, 0], data: [] } },
    });
  });

  it('reads several named inputs per row or per column, b64 and text strings, bools and exact int64s', () => {
    const inputs = [spec('i', DataType.DT_INT64), spec('s', DataType.DT_STRING), spec('b', DataType.DT_BOOL)];
    const row = '{"instances": [{"i": [9223372036854775807, -1], "s": {"b64": "AP8="}, "b": true}, {"s": "é", "i": [0, 1], "b": false}]}';
    assert.deepEqual(plain(convert(row, inputs)), {
      format: 'row',
      tensors: {
        i: { dtype: 'DT_INT64', shape: [2, 2], data: [9223372036854775807n, -1n, 0n, 1n] },
        s: { dtype: 'DT_STRING', shape: [2], data: ['\u0000\u00ff', '\u00c3\u00a9'] },
        b: { dtype: 'DT_BOOL', shape: [2], data: [1, 0] },
      },
    });
    const columns = '{"inputs": {"i": [[1]], "s": [{"b64": "aGk="}], "b": [true, false], "extra": 1}}';
    assert.deepEqual(plain(convert(columns, inputs)), {
      format: 'columnar',
      tensors: {
        i: { dtype: 'DT_INT64', shape: [1, 1], data: [1n] },
        s: { dtype: 'DT_STRING', shape: [1], data: ['hi'] },
        b: { dtype: 'DT_BOOL', shape: [2], data: [1, 0] },
      },
    });
    // A single string input: rows may be b64 objects.
    assert.deepEqual(plain(convert('{"instances": [{"b64": "YQ=="}, {"b64": "Yg"}]}', [spec('s', DataType.DT_STRING)])), {
      format: 'row', tensors: { s: { dtype: 'DT_STRING', shape: [2], data: ['a', 'b'] } },
    });
  });

  it('refuses malformed requests with TF Serving messages', () => {
    rejects('{"instances": [1], "inputs": [1]}', x,
      'JSON Value: {\n    "instances": [1],\n    "inputs": [1]\n} Not formatted correctly expecting only one of \'inputs\' or \'instances\' keys to exist ');
    rejects('{"instances": 1}', x, 'JSON Value: {\n    "instances": 1\n} Expecting \'instances\' to be an list/array');
    rejects('{"instances": []}', x, 'JSON Value: {\n    "instances": []\n} No values in \'instances\' array');
    rejects('{"signature_name": "s"}', x, "Missing 'inputs' or 'instances' key");
    rejects('{"inputs": [1]}', [], 'Failed to get input map for signature: DEFAULT');
    rejects('{"instances": [1]}', [], 'Failed to get input map for signature: DEFAULT');
    // Beyond TF Serving: a signature without inputs runs with `"inputs": {}`.
    assert.deepEqual(plain(convert('{"inputs": {}}', [])), { format: 'columnar', tensors: {} });
  });

  it('refuses ragged rows, wrong dtypes and bad base64 with TF Serving messages', () => {
    const int32 = [spec('x', DataType.DT_INT32)];
    rejects('{"instances": [[1,2],[3,4],[5,6,7]]}', int32,
      "Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 2 but got: 3");
    rejects('{"instances": [[1,2],[3,4],[[5,6]]]}', int32,
      "Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [2] but got: [1,2]");
    rejects('{"instances": [1, [1]]}', int32,
      "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [] but got: [1]");
    rejects('{"instances": [[1,2],["a", "b"]]}', int32,
      "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: \"a\" Type: String is not of expected type: int32");
    rejects('{"instances": ["x", "y"]}', x,
      "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: \"x\" Type: String is not of expected type: float");
    rejects('{"inputs": [1, 2.5]}', int32, 'JSON Value: 2.5 Type: Number is not of expected type: int32');
    rejects('{"inputs": [1.0]}', int32, 'JSON Value: 1.0 Type: Number is not of expected type: int32');
    rejects('{"inputs": [2147483648]}', int32, 'JSON Value: 2147483648 Type: Number is not of expected type: int32');
    rejects('{"inputs": [9223372036854775808]}', [spec('x', DataType.DT_INT64)],
      'JSON Value: 9223372036854775808 Type: Number is not of expected type: int64');
    rejects('{"inputs": [-1]}', [spec('x', DataType.DT_UINT32)], 'JSON Value: -1 Type: Number is not of expected type: uint32');
    rejects('{"inputs": [1]}', [spec('x', DataType.DT_BOOL)], 'JSON Value: 1 Type: Number is not of expected type: bool');
    rejects('{"inputs": [[1], 2]}', x, 'JSON Value: 2 found at incorrect level: 2 in the JSON DOM. Expected at level: 2');
    rejects('{"inputs": [[1], [2, 3]]}', x, 'Encountered list at unexpected size: 2 at level: 1 expected size: 1');
    rejects('{"inputs": [1, [2]]}', x, 'Encountered list at unexpected level: 1 expected < 1');
    rejects('{"inputs": [{"b64": "!!"}]}', [spec('s', DataType.DT_STRING)], 'Unable to base64 decode');
    rejects('{"inputs": [{"b64": "QQ==", "x": 1}]}', [spec('s', DataType.DT_STRING)],
      'JSON Value: {\n    "b64": "QQ==",\n    "x": 1\n} not formatted correctly for base64 data');
    rejects('{"inputs": [{"b64": "QQ=="}]}', x, 'JSON Value: {\n    "b64": "QQ=="\n} Type: Object is not of expected type: float');
    rejects('{"inputs": [1.5]}', [spec('h', DataType.DT_HALF)], 'Conversion of JSON Value: 1.5 to type: half', Code.UNIMPLEMENTED);
  });

  it('refuses mismatched named inputs with TF Serving messages', () => {
    const two = [spec('a', DataType.DT_INT32), spec('b', DataType.DT_STRING)];
    rejects('{"instances": [[1]]}', two,
      'instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map');
    rejects('{"instances": [{"a": 1, "b": "x"}, [1]]}', two, 'Expecting object but got list at item 1 of input list');
    rejects('{"instances": [["x"], {"s": "y"}]}', [spec('s', DataType.DT_STRING)], 'Expecting value/list but got object at item 1 of input list');
    rejects('{"instances": [{"a": 1}]}', two,
      "Failed to process element: 0 of 'instances' list. JSON object: {\n    \"a\": 1\n} keys must be equal to: a,b");
    rejects('{"instances": [{"a": 1, "c": 2}]}', two,
      "Failed to process element: 0 key: c of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input: c");
    rejects('{"instances": [{"a": [1], "b": "x"}, {"a": [1, 2], "b": "y"}]}', two,
      "Failed to process element: 1 key: a of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 1 but got: 2");
    rejects('{"inputs": [1]}', two,
      'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map');
    rejects('{"inputs": {"a": 1}}', two, "Missing named input: b in 'inputs' object.");
  });

  it('does not allocate more than the body could hold before validating', () => {
    // Shape [1000, 1000, 1000] from first elements, but the body holds a few thousand values.
    const big = `[${'1,'.repeat(999)}1]`;
    const cube = `[${big}${',[]'.repeat(999)}]`;
    rejects(`{"inputs": [${cube}]}`, x, 'Encountered list at unexpected size: 0 at level: 2 expected size: 1000');
  });
});

const f32 = (shape: number[], values: number[]): HostTensor => ({ dtype: DataType.DT_FLOAT, shape, data: Float32Array.from(values) });

describe('REST tensors -> predict JSON', () => {
  it('writes row format: one entry per batch row, objects when there are several outputs', () => {
    assert.equal(predictResponseJson(new Map([['y', f32([3], [2.5, 3, 4.5])]]), 'row'), '{"predictions":[2.5,3.0,4.5]}');
    assert.equal(predictResponseJson(new Map([['y', f32([2, 2], [1, 2, 3, 4])]]), 'row'), '{"predictions":[[1.0,2.0],[3.0,4.0]]}');
    const several = new Map<string, HostTensor>([
      ['a', f32([2, 1], [1, 2])],
      ['b_bytes', { dtype: DataType.DT_STRING, shape: [2], data: [Uint8Array.of(0, 255), Uint8Array.of()] }],
      ['c', { dtype: DataType.DT_INT64, shape: [2], data: BigInt64Array.from([1n << 62n, -1n]) }],
      ['d', { dtype: DataType.DT_BOOL, shape: [2], data: Uint8Array.from([1, 0]) }],
      ['e', { dtype: DataType.DT_STRING, shape: [2], data: [Buffer.from('é"'), Buffer.from('')] }],
    ]);
    assert.equal(predictResponseJson(several, 'row'),
      '{"predictions":[{"a":[1.0],"b_bytes":{"b64":"AP8="},"c":4611686018427387904,"d":true,"e":"é\\""},' +
      '{"a":[2.0],"b_bytes":{"b64":""},"c":-1,"d":false,"e":""}]}');
    assert.equal(predictResponseJson(new Map([['y', f32([0, 2], [])]]), 'row'), '{"predictions":[]}');
  });

  it('writes columnar format: the value, or an object of outputs', () => {
    assert.equal(predictResponseJson(new Map([['y', f32([], [7])]]), 'columnar'), '{"outputs":7.0}');
    assert.equal(predictResponseJson(new Map([['y', f32([2, 0], [])]]), 'columnar'), '{"outputs":[[],[]]}');
    const two = new Map<string, HostTensor>([
      ['a', { dtype: DataType.DT_INT32, shape: [2], data: Int32Array.from([1, -2]) }],
      ['b', { dtype: DataType.DT_DOUBLE, shape: [1], data: Float64Array.from([0.1]) }],
    ]);
    assert.equal(predictResponseJson(two, 'columnar'), '{"outputs":{"a":[1,-2],"b":[0.1]}}');
  });

  it('refuses what row format cannot express, as TF Serving does', () => {
    const fails = (outputs: Map<string, HostTensor>, message: string) =>
      assert.throws(() => predictResponseJson(outputs, 'row'), (e: unknown) => e instanceof ServingError && e.message === message);
    fails(new Map(), 'Cannot convert empty tensor map to JSON');
    fails(new Map([['y', f32([], [1])]]), 'Tensor name: y has no shape information ');
    fails(new Map([['a', f32([1], [1])], ['b', f32([2], [1, 2])]]), 'Tensor name: b has inconsistent batch size: 2 expecting: 1');
    fails(new Map([['h', { dtype: DataType.DT_HALF, shape: [1], data: Uint16Array.of(0) }]]), 'Failed to write JSON value for tensor type: half');
  });
});
