import assert from 'node:assert/strict';
import { pythonFloatRepr } from './dragon4.js';
import { ConversionError, dtypeName } from './ndarray.js';
import { LiteralSyntaxError, type PyValue, parsePythonLiteral, pyRepr } from './python-literal.js';
import { callOracle, venvPython } from './test-oracle.js';

/** A literal as oracle.py encodes Python values. */
type Encoded = { t: string; v?: unknown };

function encode(value: PyValue): Encoded {
  switch (value.kind) {
    case 'none': return { t: 'none' };
    case 'bool': return { t: 'bool', v: value.value };
    case 'int': return { t: 'int', v: value.value.toString() };
    case 'float': return { t: 'float', v: pythonFloatRepr(value.value) };
    case 'str': return { t: 'str', v: value.value };
    case 'bytes': return { t: 'bytes', v: Buffer.from(value.value).toString('base64') };
    case 'list':
    case 'tuple': return { t: value.kind, v: value.items.map(encode) };
    case 'dict': return { t: 'dict', v: value.entries.map(([k, v]) => [encode(k), encode(v)]) };
    case 'ndarray': return { t: 'other', v: pyRepr(value) };
  }
}

/** Expressions compared with ast.literal_eval: valid ones must give the same value, invalid ones must fail. */
const EXPRESSIONS = [
  '[[1],[2]]', '(1, 2)', '1,2', '()', '(1,)', '[]', '[1, 2,]', '1e-3', '-1e-3', '+5', '-5', '.5', '5.', '1_000',
  '0x1F', '0o17', '0b101', '0XfF', '1E10', '3.14e+2', '-(1)', 'True', 'False', 'None', '[True, False]', "'abc'",
  '"a\'b"', "b'\\x00\\xff'", "'\\u00e9'", "'\\U0001F600'", "'\\n\\t\\\\'", "r'\\n'", "rb'\\x'", "'a' 'b'", "b'a' B'b'",
  "'''tri\nple'''", '"""x"y"""', '{"x": [5.0], "name": [b"a"]}', '[{"x":[1]}, {"y":[2.5]}]', '  [1]', '\t[1]',
  '[1,\n 2]', "'\\101'", "'\\x41'", "u'abc'", "'é'", '[-1, +2, -3.5e-2]', '1.5e308', '1e309', '-1e309',
  '[[1.0, 2], [3, 4]]', '1 # comment', '0', '00', '0_0', '1.e5', 'None,', '[None]', "'\\q'", "'a\\\nb'",
  '123456789012345678901234567890', '-9223372036854775808', '0.1', '1e-7', '{1: 2, 1: 3}', "{'a': 1, 'b': (2, 3)}",
  '[(1, 2), (3, 4)]', '2.5e-324', '1e16', '1234567890123456.7',
  // invalid
  '2**3', '01', '[1', 'x', '1 2', "'abc", "b'é'", "'a' b'b'", '[1,,2]', '- - 1', "f'x'", '1\n2', '1__0',
  '1_', '0x', '1e', '(1', ']', '', '-True', '-(1,)', "'\\x4'", 'a=1', '{1: }', '[1 2]', '1.2.3',
];

/** Deliberate differences: Python accepts these (complex numbers, sets), we refuse them; np calls are our extension. */
const REFUSED_BUT_VALID_PYTHON = ['1+2j', '3j', '-1.5-2j', '{1, 2}'];

describe('cli/python-literal', function () {
  this.timeout(60_000);
  let answers: Array<{ value?: Encoded; error?: string }> = [];

  before(async function () {
    const venv = venvPython();
    if (!venv.python) {
      console.warn(`skipping: ${venv.skipReason}`);
      this.skip();
    }
    answers = await callOracle(venv.python!, { mode: 'literal', exprs: [...EXPRESSIONS, ...REFUSED_BUT_VALID_PYTHON] });
  });

  it('agrees with ast.literal_eval on valid and invalid expressions', () => {
    EXPRESSIONS.forEach((expr, i) => {
      const expected = answers[i]!;
      let ours: Encoded | undefined;
      let failure: unknown;
      try {
        ours = encode(parsePythonLiteral(expr));
      } catch (error) {
        failure = error;
      }
      if (expected.error) {
        assert.ok(failure instanceof LiteralSyntaxError, `${JSON.stringify(expr)} should fail like Python (${expected.error}), got ${JSON.stringify(ours)}`);
      } else {
        assert.equal(failure, undefined, `${JSON.stringify(expr)} failed: ${String(failure)}`);
        assert.deepEqual(ours, expected.value, JSON.stringify(expr));
      }
    });
  });

  it('refuses complex numbers and sets, which Python accepts but no tensor feed can use', () => {
    REFUSED_BUT_VALID_PYTHON.forEach((expr, i) => {
      assert.equal(answers[EXPRESSIONS.length + i]!.error, undefined, `Python accepts ${expr}`);
      assert.throws(() => parsePythonLiteral(expr), LiteralSyntaxError, expr);
    });
  });
});

describe('cli/python-literal numpy calls', () => {
  const array = (text: string): { dtype: string; shape: readonly number[]; values: unknown[] } => {
    const value = parsePythonLiteral(text);
    assert.equal(value.kind, 'ndarray');
    const { array: a } = value as Extract<PyValue, { kind: 'ndarray' }>;
    return { dtype: dtypeName(a.dtype), shape: a.shape, values: Array.from(a.data as ArrayLike<unknown>) };
  };

  it('evaluates np.ones, np.zeros, np.full with shapes and dtypes', () => {
    assert.deepEqual(array('np.ones((2, 3))'), { dtype: 'float64', shape: [2, 3], values: [1, 1, 1, 1, 1, 1] });
    assert.deepEqual(array('np.zeros(3, dtype=np.int32)'), { dtype: 'int32', shape: [3], values: [0, 0, 0] });
    assert.deepEqual(array("numpy.ones([2], 'float32')"), { dtype: 'float32', shape: [2], values: [1, 1] });
    assert.deepEqual(array('np.full((2,), 7)'), { dtype: 'int64', shape: [2], values: [7n, 7n] });
    assert.deepEqual(array('np.full((1, 2), 0.5, dtype=np.float32)'), { dtype: 'float32', shape: [1, 2], values: [0.5, 0.5] });
    assert.deepEqual(array('np.zeros((), dtype=bool)'), { dtype: 'bool', shape: [], values: [0] });
  });

  it('evaluates np.array and dtype constructors', () => {
    assert.deepEqual(array('np.array([[1, 2], [3, 4]], dtype=np.float32)'), { dtype: 'float32', shape: [2, 2], values: [1, 2, 3, 4] });
    assert.deepEqual(array('np.array([1.5, -2.7], np.int64)'), { dtype: 'int64', shape: [2], values: [1n, -2n] });
    assert.deepEqual(array('np.asarray([True, False])'), { dtype: 'bool', shape: [2], values: [1, 0] });
    assert.deepEqual(array('np.float32(2.5)'), { dtype: 'float32', shape: [], values: [2.5] });
    assert.deepEqual(array("np.array([b'a', b'bc'])"), { dtype: '|S2', shape: [2], values: [Uint8Array.of(97), Uint8Array.of(98, 99)] });
    const nested = parsePythonLiteral('[np.ones(2), 3]');
    assert.equal(nested.kind, 'list');
  });

  it('rejects what is not a supported numpy call', () => {
    assert.throws(() => parsePythonLiteral('np.random.rand(3)'), LiteralSyntaxError);
    assert.throws(() => parsePythonLiteral('np.ones'), LiteralSyntaxError);
    assert.throws(() => parsePythonLiteral('np.ones((2, -1))'), LiteralSyntaxError);
    assert.throws(() => parsePythonLiteral('np.zeros(2, dtype=np.complex64)'), LiteralSyntaxError);
    assert.throws(() => parsePythonLiteral('np.array([[1], [2, 3]])'), ConversionError);
    assert.throws(() => parsePythonLiteral('__import__("os")'), LiteralSyntaxError);
  });
});
