import assert from 'node:assert/strict';
import { fromBinary } from '@bufbuild/protobuf';
import { ExampleSchema } from '../../../gen/tensorflow/core/example/example_pb.js';
import { DataType } from '../tensor/dtypes.js';
import { CliError } from './cli-errors.js';
import { serializeExamples } from './examples.js';
import { parseExprsFlag, parseInputsFlag } from './inputs.js';
import { ConversionError, toFeedTensor } from './ndarray.js';
import { parsePythonLiteral } from './python-literal.js';

function cliMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof CliError, String(error));
    return error.describe('saved-model-cli');
  }
  assert.fail('did not throw');
}

describe('cli/inputs flag parsing', () => {
  it('splits --inputs into files and optional variable names', () => {
    assert.deepEqual(
      [...parseInputsFlag('x=a.npy;y=b.npz[arr_0];;z=dir/c.npz')],
      [['x', { file: 'a.npy' }], ['y', { file: 'b.npz', variable: 'arr_0' }], ['z', { file: 'dir/c.npz' }]],
    );
    assert.equal(
      cliMessage(() => parseInputsFlag('x')),
      'RuntimeError: --inputs "x" format is incorrect. Please follow"<input_key>=<filename>", or"<input_key>=<filename>[<variable_name>]"',
    );
    assert.match(cliMessage(() => parseInputsFlag('x=a[b][c]')), /format is incorrect/);
  });

  it('splits --input_exprs on ; and the first =', () => {
    const parsed = parseExprsFlag('x=[1, 2];y = "a=b";x=3');
    assert.deepEqual([...parsed.keys()], ['x', 'y ']);
    assert.deepEqual(parsed.get('x'), { kind: 'int', value: 3n });
    assert.deepEqual(parsed.get('y '), { kind: 'str', value: 'a=b' });
    assert.equal(cliMessage(() => parseExprsFlag('[1]')), 'RuntimeError: --input_exprs "[1]" format is incorrect. Please follow"<input_key>=<python expression>"');
    assert.match(cliMessage(() => parseExprsFlag('x=1;[2]')), /^ValueError: not enough values to unpack/);
    assert.match(cliMessage(() => parseExprsFlag('x=[1')), /^RuntimeError: Expression "\[1" is not a valid python literal\./);
  });
});

describe('cli/examples', () => {
  it('builds tf.Example protos with the feature kind of the first value', () => {
    const [first, second] = serializeExamples(parsePythonLiteral('[{"x": [5.0, 1], "name": [b"a"], "id": [3, True], "text": ["é"]}, {}]'));
    const example = fromBinary(ExampleSchema, first!);
    const feature = example.features!.feature;
    assert.deepEqual(feature['x']!.kind, { case: 'floatList', value: feature['x']!.kind.value });
    assert.deepEqual((feature['x']!.kind.value as { value: number[] }).value, [5, 1]);
    assert.deepEqual((feature['name']!.kind.value as { value: Uint8Array[] }).value, [Uint8Array.of(97)]);
    assert.deepEqual((feature['id']!.kind.value as { value: bigint[] }).value, [3n, 1n]);
    assert.equal(feature['id']!.kind.case, 'int64List');
    assert.deepEqual((feature['text']!.kind.value as { value: Uint8Array[] }).value, [Uint8Array.of(0xc3, 0xa9)]);
    assert.equal(second!.length, 0);
  });

  it('refuses what saved_model_cli refuses, with its wording', () => {
    assert.equal(
      cliMessage(() => serializeExamples(parsePythonLiteral('[{"x": 5.0}]'))),
      `ValueError: feature value must be a list, but x: "5.0" is <class 'float'>`,
    );
    assert.equal(
      cliMessage(() => serializeExamples(parsePythonLiteral('{"x": [1]}'))),
      `ValueError: tf.Example input must be a list of dictionaries, but "{'x': [1]}" is <class 'dict'>`,
    );
    assert.match(cliMessage(() => serializeExamples(parsePythonLiteral('[{"x": [None]}]'))), /Type <class 'NoneType'> for value None is not supported/);
    assert.match(cliMessage(() => serializeExamples(parsePythonLiteral('[{"x": [1.5, "a"]}]'))), /^TypeError: 'a' has type str/);
  });
});

describe('cli/ndarray feed conversion', () => {
  const feed = (text: string, dtype: DataType): unknown[] => {
    const tensor = toFeedTensor(parsePythonLiteral(text), dtype);
    return Array.from(tensor.data as ArrayLike<unknown>);
  };

  it('converts like np.asarray(value).astype(dtype)', () => {
    assert.deepEqual(feed('[[1], [2]]', DataType.DT_FLOAT), [1, 2]);
    assert.deepEqual(feed('[0.1]', DataType.DT_FLOAT), [Math.fround(0.1)]);
    assert.deepEqual(feed('[1.9, -1.9]', DataType.DT_INT32), [1, -1]);
    assert.deepEqual(feed('[300, -1]', DataType.DT_UINT8), [44, 255]);
    assert.deepEqual(feed('[1, -2]', DataType.DT_INT64), [1n, -2n]);
    assert.deepEqual(feed('[True, False]', DataType.DT_FLOAT), [1, 0]);
    assert.deepEqual(feed('[0, 2, 0.5]', DataType.DT_BOOL), [0, 1, 1]);
    assert.deepEqual(feed('["1.5", "2"]', DataType.DT_DOUBLE), [1.5, 2]);
    assert.deepEqual(feed('np.ones(2, dtype=np.float32)', DataType.DT_INT64), [1n, 1n]);
  });

  it('makes string tensors from str (UTF-8) and bytes', () => {
    const tensor = toFeedTensor(parsePythonLiteral('[["é", b"\\xff"]]'), DataType.DT_STRING);
    assert.deepEqual(tensor.shape, [1, 2]);
    assert.deepEqual(tensor.data, [Uint8Array.of(0xc3, 0xa9), Uint8Array.of(0xff)]);
    assert.throws(() => toFeedTensor(parsePythonLiteral('[1]'), DataType.DT_STRING), ConversionError);
  });

  it('refuses ragged lists and unparsable strings', () => {
    assert.throws(() => toFeedTensor(parsePythonLiteral('[[1], [2, 3]]'), DataType.DT_FLOAT), /inhomogeneous shape after 1 dimensions/);
    assert.throws(() => toFeedTensor(parsePythonLiteral('["a"]'), DataType.DT_FLOAT), /could not convert string to float: 'a'/);
    assert.throws(() => toFeedTensor(parsePythonLiteral('[None]'), DataType.DT_FLOAT), ConversionError);
  });
});
