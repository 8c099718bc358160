import assert from 'node:assert/strict';
import { Code, ServingError } from '../../errors.js';
import { debugString } from './json-debug.js';
import { FloatToken, parseBody, parsePrecise } from './json-parse.js';

function rejects(text: string, message: string, precise = false): void {
  assert.throws(
    () => parseBody(text, precise),
    (e: unknown) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && e.message === message,
    text,
  );
}

describe('REST request JSON', () => {
  it('uses JSON.parse when it can and the precise parser for what only rapidjson accepts', () => {
    assert.deepEqual(parseBody('{"instances":[1,2.5]}', false), { doc: { instances: [1, 2.5] }, precise: false });
    const tolerant = parseBody('{"instances":[NaN, Infinity, -Infinity, -Inf]} trailing', false);
    assert.equal(tolerant.precise, true);
    const values = (tolerant.doc.instances as FloatToken[]).map((v) => v.value);
    assert.deepEqual(values, [NaN, Infinity, -Infinity, -Infinity]);
  });

  it('keeps how numbers were written and int64s beyond 2^53', () => {
    const value = parsePrecise('[80, 80.0, 8e1, -9223372036854775808, 18446744073709551615, 18446744073709551616, -0, 1.5E-3]') as unknown[];
    assert.equal(value[0], 80);
    assert.deepEqual(value[1], new FloatToken(80));
    assert.deepEqual(value[2], new FloatToken(80));
    assert.equal(value[3], -9223372036854775808n);
    assert.equal(value[4], 18446744073709551615n);
    assert.deepEqual(value[5], new FloatToken(18446744073709551616));
    assert.ok(Object.is(value[6], -0));
    assert.deepEqual(value[7], new FloatToken(0.0015));
  });

  it('decodes strings and escapes, and keeps __proto__ as a plain key', () => {
    const value = parsePrecise('{"a\\u00e9\\n": "x\\"\\\\\\/\\b\\f\\r\\t\\ud83d\\ude00", "__proto__": 1}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), ['aé\n', '__proto__']);
    assert.equal(value['aé\n'], 'x"\\/\b\f\r\t😀');
    assert.equal(value.__proto__, 1);
  });

  it("reports syntax errors with rapidjson's messages and offsets", () => {
    rejects('', 'JSON Parse error: The document is empty');
    rejects('  \n', 'JSON Parse error: The document is empty. at offset: 3');
    rejects('instances = [1, 2]', 'JSON Parse error: Invalid value. at offset: 0');
    rejects('{"a" 1}', 'JSON Parse error: Missing a colon after a name of object member. at offset: 5');
    rejects('{"a": 1 "b"}', "JSON Parse error: Missing a comma or '}' after an object member. at offset: 8");
    rejects('{"a": [1 2]}', "JSON Parse error: Missing a comma or ']' after an array element. at offset: 9");
    rejects('{1: 2}', 'JSON Parse error: Missing a name for object member. at offset: 1');
    rejects('{"a": "b', 'JSON Parse error: Missing a closing quotation mark in string. at offset: 8');
    rejects('{"a": "\\x"}', 'JSON Parse error: Invalid escape character in string. at offset: 8');
    rejects('{"a": "\\u12g4"}', 'JSON Parse error: Incorrect hex digit after \\u escape in string. at offset: 9');
    // JSON.parse accepts lone surrogates; the precise parser does not.
    rejects('{"a": "\\ud800x"}', 'JSON Parse error: The surrogate pair in string is invalid. at offset: 13', true);
    rejects('{"a": 1.}', 'JSON Parse error: Miss fraction part in number. at offset: 8');
    rejects('{"a": 1e}', 'JSON Parse error: Miss exponent in number. at offset: 8');
    // JSON.parse reads 1e400 as Infinity; the precise parser refuses it like rapidjson.
    rejects('{"a": 1e400}', 'JSON Parse error: Number too big to be stored in double. at offset: 6', true);
    rejects('{"a": "\u0001"}', 'JSON Parse error: Invalid encoding in string. at offset: 7');
    rejects(`{"a": ${'['.repeat(2000)}`, 'JSON Parse error: Nesting deeper than 1000 levels. at offset: 1005');
  });

  it('requires a top-level object, quoting the value as TF Serving does', () => {
    rejects('[1, 2]', 'JSON Value: [1, 2] Is not object');
    rejects('"x"', 'JSON Value: "x" Is not object', true);
  });

  it("quotes values like rapidjson's PrettyWriter, cut after 256 characters", () => {
    assert.equal(debugString(parsePrecise('{"a": [1, 2.0, "x"], "b": {"c": null, "d": true}}')),
      '{\n    "a": [1, 2.0, "x"],\n    "b": {\n        "c": null,\n        "d": true\n    }\n}');
    assert.equal(debugString(parsePrecise('{}')), '{}');
    assert.equal(debugString(parsePrecise('[1e21, 1.5e-7, 0.25]')), '[1e21, 1.5e-7, 0.25]');
    const long = debugString(parsePrecise(`[${Array(200).fill('12345').join(',')}]`));
    assert.ok(long.length >= 256 && long.length < 270, String(long.length));
    assert.ok(long.startsWith('[12345, 12345'));
  });
});
