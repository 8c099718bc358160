import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { create, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, Message } from '@bufbuild/protobuf';
import { TF_SERVING_TESTDATA, describeWithSharedModels } from '../../../test/support/shared-savedmodels.js';
import { parseTextFormat, TextFormatError } from './index.js';
import {
  BatchingParametersSchema,
  EverythingSchema,
  LegacySchema,
  ModelServerConfigSchema,
  MonitoringConfigSchema,
  testRegistry,
} from './testdata/schemas.js';

const TF_SERVING = pathToFileURL(`${TF_SERVING_TESTDATA}/`);

function parse(text: string): Message {
  return parseTextFormat(EverythingSchema, text, { registry: testRegistry });
}

function everything(init: Record<string, unknown>): Message {
  return create(EverythingSchema, init);
}

/** A field of a message built from a runtime descriptor, by its JS (localName) name. */
function valueOf(msg: Message, localName: string): unknown {
  return (msg as unknown as Record<string, unknown>)[localName];
}

function assertError(text: string, message: string, schema: DescMessage = EverythingSchema): void {
  assert.throws(
    () => parseTextFormat(schema, text, { registry: testRegistry }),
    (e: unknown) => e instanceof TextFormatError && e.message === message,
    `expected ${JSON.stringify(message)}`,
  );
}

function errorOf(text: string): TextFormatError {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof TextFormatError) return e;
    throw e;
  }
  assert.fail('expected a TextFormatError');
}

describe('parseTextFormat', () => {
  describe('integers', () => {
    it('reads every integer type at both ends of its range', () => {
      const msg = parse(`
        int32_value: -2147483648  uint32_value: 4294967295
        int64_value: -9223372036854775808  uint64_value: 18446744073709551615
        sint32_value: 2147483647  sint64_value: 9223372036854775807
        fixed32_value: 4294967295  fixed64_value: 18446744073709551615
        sfixed32_value: -2147483648  sfixed64_value: -9223372036854775808`);
      assert.deepEqual(
        msg,
        everything({
          int32Value: -2147483648,
          uint32Value: 4294967295,
          int64Value: -9223372036854775808n,
          uint64Value: 18446744073709551615n,
          sint32Value: 2147483647,
          sint64Value: 9223372036854775807n,
          fixed32Value: 4294967295,
          fixed64Value: 18446744073709551615n,
          sfixed32Value: -2147483648,
          sfixed64Value: -9223372036854775808n,
        }),
      );
    });

    it('reads hex and octal integers with an optional minus sign', () => {
      const msg = parse('int32_value: 0x7fffffff int64_value: -0x10 uint32_value: 0777 uint64_value: 0XFF sint32_value: -010');
      assert.deepEqual(
        msg,
        everything({ int32Value: 0x7fffffff, int64Value: -16n, uint32Value: 0o777, uint64Value: 255n, sint32Value: -8 }),
      );
    });

    it('rejects values outside the range of the field type', () => {
      assertError('int32_value: 2147483648', '1:14: Integer out of range (2147483648)');
      assertError('int32_value: -2147483649', '1:15: Integer out of range (2147483649)');
      assertError('uint32_value: 4294967296', '1:15: Integer out of range (4294967296)');
      assertError('uint32_value: -1', '1:15: Expected integer, got: -');
      assertError('int64_value: 9223372036854775808', '1:14: Integer out of range (9223372036854775808)');
      assertError('int64_value: -9223372036854775809', '1:15: Integer out of range (9223372036854775809)');
      assertError('uint64_value: 18446744073709551616', '1:15: Integer out of range (18446744073709551616)');
      assertError('sfixed32_value: 0x80000000', '1:17: Integer out of range (0x80000000)');
      assertError('fixed64_value: 0x10000000000000000', '1:16: Integer out of range (0x10000000000000000)');
    });

    it('rejects non-integers', () => {
      assertError('int32_value: 1.5', '1:14: Expected integer, got: 1.5');
      assertError('int64_value: "1"', '1:14: Expected integer, got: "1"');
      assertError('int32_value: [1]', '1:14: Expected integer, got: [');
    });
  });

  describe('floating point', () => {
    const cases: [string, number][] = [
      ['1.5', 1.5],
      ['-2.5e3', -2500],
      ['1E-3', 0.001],
      ['.5', 0.5],
      ['5.', 5],
      ['1.5f', 1.5],
      ['2e2F', 200],
      ['7', 7],
      ['-0', -0],
      ['18446744073709551616', 18446744073709551616],
      ['inf', Infinity],
      ['-inf', -Infinity],
      ['Infinity', Infinity],
      ['-INFINITY', -Infinity],
      ['nan', NaN],
      ['NaN', NaN],
    ];
    for (const [text, value] of cases) {
      it(`reads ${text}`, () => {
        assert.equal(valueOf(parse(`double_value: ${text}`), 'doubleValue'), value);
      });
    }

    it('rounds float fields to 32 bits, overflowing to infinity like C++', () => {
      assert.equal(valueOf(parse('float_value: 0.1'), 'floatValue'), Math.fround(0.1));
      assert.equal(valueOf(parse('float_value: 1e39'), 'floatValue'), Infinity);
      assert.equal(valueOf(parse('float_value: -1e39'), 'floatValue'), -Infinity);
    });

    it('rejects hex and octal integers, other identifiers and strings', () => {
      assertError('double_value: 0x10', '1:15: Expect a decimal number, got: 0x10');
      assertError('double_value: 017', '1:15: Expect a decimal number, got: 017');
      assertError('double_value: infinit', '1:15: Expected double, got: infinit');
      assertError('float_value: "1"', '1:14: Expected double, got: "1"');
    });
  });

  describe('bools', () => {
    for (const text of ['true', 'True', 't', '1', '0x1']) {
      it(`reads ${text} as true`, () => assert.equal(valueOf(parse(`bool_value: ${text}`), 'boolValue'), true));
    }
    for (const text of ['false', 'False', 'f', '0']) {
      it(`reads ${text} as false`, () => {
        // Give another field a value so an ignored bool could not pass for a default.
        assert.deepEqual(parse(`bool_value: ${text} int32_value: 1`), everything({ boolValue: false, int32Value: 1 }));
      });
    }

    it('rejects other values', () => {
      assertError('bool_value: 2', '1:13: Integer out of range (2)');
      assertError('bool_value: yes', '1:13: Invalid value for boolean field "bool_value". Value: "yes".');
      assertError('bool_value: TRUE', '1:13: Invalid value for boolean field "bool_value". Value: "TRUE".');
      assertError('bool_value: "true"', '1:13: Expected identifier, got: "true"');
    });
  });

  describe('strings and bytes', () => {
    it('reads single and double quotes and every simple escape', () => {
      assert.equal(valueOf(parse(String.raw`string_value: "\a\b\f\n\r\t\v\\\'\"\?"`), 'stringValue'), '\x07\b\f\n\r\t\v\\\'"?');
      assert.equal(valueOf(parse(`string_value: 'say "hi"'`), 'stringValue'), 'say "hi"');
    });

    it('reads octal, hex and unicode escapes', () => {
      const msg = parse(String.raw`string_value: "\101\x42\u00e9\U0001F600\ud83d\ude00 \7 \08 \x9z"`);
      assert.equal(valueOf(msg, 'stringValue'), 'ABé😀😀 \x07 \x008 \tz');
    });

    it('keeps non-ASCII text as written', () => {
      assert.equal(valueOf(parse('string_value: "héllo 😀"'), 'stringValue'), 'héllo 😀');
    });

    it('concatenates adjacent literals as bytes', () => {
      assert.equal(valueOf(parse(`string_value: "ab" 'cd'\n  "e\\x66"`), 'stringValue'), 'abcdef');
      // An escaped UTF-8 sequence may be split across literals.
      assert.equal(valueOf(parse(String.raw`string_value: "x" "\303" "\251"`), 'stringValue'), 'xé');
    });

    it('rejects escapes that are not UTF-8 in string fields', () => {
      assertError(String.raw`string_value: "ok" "\377"`, '1:15: String field "string_value" contains invalid UTF-8 data.');
    });

    it('keeps raw bytes in bytes fields', () => {
      const msg = parse(String.raw`bytes_value: "\000\377\x7f" "é\u00e9\777" blobs: ["a", '\001']`);
      assert.deepEqual(valueOf(msg, 'bytesValue'), new Uint8Array([0, 0xff, 0x7f, 0xc3, 0xa9, 0xc3, 0xa9, 0xff]));
      assert.deepEqual(valueOf(msg, 'blobs'), [new Uint8Array([0x61]), new Uint8Array([1])]);
    });

    it('rejects malformed literals', () => {
      assertError('string_value: "abc', '1:19: Unexpected end of string.');
      assertError('string_value: "ab\ncd"', '1:18: Multiline strings are not allowed. Did you miss a "?');
      assertError(String.raw`string_value: "a\qb"`, '1:17: Invalid escape sequence in string literal.');
      assertError(String.raw`string_value: "\xg"`, '1:18: Expected hex digits for escape sequence.');
      assertError(String.raw`string_value: "\u12"`, '1:18: Expected four hex digits for \\u escape sequence.');
      assertError(String.raw`string_value: "\U00110000"`, '1:18: Expected eight hex digits up to 10ffff for \\U escape sequence');
      assertError('string_value: 5', '1:15: Expected string, got: 5');
    });
  });

  describe('number tokens', () => {
    it('rejects malformed numbers where C++ does', () => {
      assertError('int32_value: 0x', '1:16: "0x" must be followed by hex digits.');
      assertError('int32_value: 09', '1:15: Numbers starting with leading zero must be in octal.');
      assertError('double_value: 1e', '1:17: "e" must be followed by exponent.');
      assertError('int32_value: 12abc', '1:16: Need space between number and identifier.');
      assertError('double_value: 1.2.3', "1:18: Already saw decimal point or exponent; can't have another one.");
      assertError('int32_value: 0x1.5', '1:17: Hex and octal numbers must be integers.');
      assertError('int32_value: 1\x01', '1:15: Invalid control characters encountered in text.');
    });
  });

  describe('enums', () => {
    it('reads values by name and by number', () => {
      assert.deepEqual(
        parse('color: GREEN colors: [RED, 2, COLOR_UNSPECIFIED] colors: 1'),
        everything({ color: 2, colors: [1, 2, 0, 1] }),
      );
    });

    it('keeps unknown numbers of open (proto3) enums', () => {
      assert.equal(valueOf(parse('color: 7'), 'color'), 7);
      assert.equal(valueOf(parse('color: -3'), 'color'), -3);
    });

    it('rejects unknown names, naming the enum', () => {
      assertError('color: BLUE', '1:8: Unknown enumeration value of "BLUE" for field "color" (enum tfmodel.test.Color).');
    });

    it('rejects unknown numbers of closed (proto2) enums', () => {
      assert.deepEqual(parseTextFormat(LegacySchema, 'level: 2'), create(LegacySchema, { level: 2 }));
      assertError('level: 3', '1:8: Unknown enumeration value of "3" for field "level" (enum tfmodel.test.Level).', LegacySchema);
    });

    it('rejects other tokens and out-of-range numbers', () => {
      assertError('color: "RED"', '1:8: Expected integer or identifier, got: "RED"');
      assertError('color: 2147483648', '1:8: Integer out of range (2147483648)');
    });
  });

  describe('messages and repeated fields', () => {
    it('reads nested messages in { } or < >, with or without a colon', () => {
      assert.deepEqual(
        parse('child { int32_value: 1 child: < int32_value: 2 > } children: { int32_value: 3 } children < >'),
        everything({
          child: { int32Value: 1, child: { int32Value: 2 } },
          children: [{ int32Value: 3 }, {}],
        }),
      );
    });

    it('accepts one , or ; after each field', () => {
      assert.deepEqual(
        parse('int32_value: 1, int64_value: 2; names: "a"; names: "b", child { int32_value: 3; },'),
        everything({ int32Value: 1, int64Value: 2n, names: ['a', 'b'], child: { int32Value: 3 } }),
      );
      assertError('int32_value: 1,, int64_value: 2', '1:16: Expected identifier, got: ,');
    });

    it('skips # comments', () => {
      const text = '# leading\nint32_value: 1 # trailing { "\n# only a comment\nchild { # open\n int32_value: 2 # x\n}\n#';
      assert.deepEqual(parse(text), everything({ int32Value: 1, child: { int32Value: 2 } }));
    });

    it('reads repeated fields by repetition and by list syntax', () => {
      const msg = parse(`
        numbers: 1 numbers: [2, 3] numbers: [] numbers: 4
        children { int32_value: 1 } children [{ int32_value: 2 }, < int32_value: 3 >] children: []
        floats: [1, 2.5, -inf] names: ["a" "b", 'c']`);
      assert.deepEqual(
        msg,
        everything({
          numbers: [1, 2, 3, 4],
          children: [{ int32Value: 1 }, { int32Value: 2 }, { int32Value: 3 }],
          floats: [1, 2.5, -Infinity],
          names: ['ab', 'c'],
        }),
      );
    });

    it('rejects malformed lists', () => {
      assertError('numbers: [1 2]', '1:13: Expected ",", found "2".');
      assertError('numbers: [1,]', '1:13: Expected integer, got: ]');
      assertError('numbers [1]', '1:9: Expected ":", found "[".');
      assertError('numbers: [1', '1:12: Expected ",", found end of input.');
    });

    it('parses empty input and comment-only input as the empty message', () => {
      assert.deepEqual(parse(''), everything({}));
      assert.deepEqual(parse('  \n\t# nothing\n'), everything({}));
    });

    it('stops at a recursion depth of 100 nested messages, like C++', () => {
      const nested = (depth: number) => 'child { '.repeat(depth) + '}'.repeat(depth);
      assert.doesNotThrow(() => parse(nested(100)));
      assertError(nested(101), '1:807: Message is too deep, the parser exceeded the configured recursion limit of 100.');
    });
  });

  describe('maps', () => {
    it('reads entries as key/value messages, in any list or delimiter form', () => {
      const msg = parse(`
        labels { key: "a" value: 1 }
        labels: < key: "b", value: -2 >
        labels [{ key: "c" value: 3 }, { value: 4 }]`);
      assert.deepEqual(valueOf(msg, 'labels'), { a: 1n, b: -2n, c: 3n, '': 4n });
    });

    it('reads integer and bool keys, message and enum values, defaulting what is left out', () => {
      const msg = parse(`
        by_id { key: 7 value { text: "x" } }
        by_id { key: -1 }
        flags { key: true value: GREEN }
        flags { value: RED }`);
      assert.deepEqual(
        msg,
        everything({
          byId: { 7: { choice: { case: 'text', value: 'x' } }, [-1]: {} },
          flags: { true: 2, false: 1 },
        }),
      );
    });

    it('lets a later entry replace an earlier one with the same key', () => {
      assert.deepEqual(valueOf(parse('labels { key: "a" value: 1 } labels { key: "a" value: 2 }'), 'labels'), { a: 2n });
    });

    it('rejects a repeated key, unknown entry fields and mistyped keys', () => {
      assertError('labels { key: "a" key: "b" }', '1:22: Non-repeated field "key" is specified multiple times.');
      assertError(
        'labels { name: "a" }',
        '1:14: Message type "tfmodel.test.Everything.LabelsEntry" has no field named "name".',
      );
      assertError('labels { key: 1 }', '1:15: Expected string, got: 1');
      assertError('labels { key: "a"', '1:18: Expected "}", found end of input.');
    });
  });

  describe('singular fields and oneofs', () => {
    it('sets one member of a oneof', () => {
      assert.deepEqual(
        parse('nested { text: "inner" }'),
        everything({ choice: { case: 'nested', value: { choice: { case: 'text', value: 'inner' } } } }),
      );
    });

    it('rejects a second member of the same oneof', () => {
      assertError(
        'text: "a" number: 1',
        '1:17: Field "number" is specified along with field "text", another member of oneof "choice".',
      );
    });

    it('rejects a non-repeated field given twice', () => {
      assertError('text: "a" text: "b"', '1:15: Non-repeated field "text" is specified multiple times.');
      assertError('int32_value: 1\nint32_value: 1', '2:12: Non-repeated field "int32_value" is specified multiple times.');
      assertError('child {} child {}', '1:16: Non-repeated field "child" is specified multiple times.');
    });

    it('tracks fields per message, so nested messages may reuse names', () => {
      assert.deepEqual(
        parse('child { int32_value: 1 } int32_value: 2'),
        everything({ child: { int32Value: 1 }, int32Value: 2 }),
      );
    });

    it('records an explicitly set proto3 optional field even at its default', () => {
      assert.equal(valueOf(parse('maybe: 0'), 'maybe'), 0);
      assert.equal(valueOf(parse(''), 'maybe'), undefined);
    });
  });

  describe('well-known types', () => {
    it('reads wrappers as plain messages', () => {
      assert.equal(valueOf(parse('wrapped_int { value: 42 }'), 'wrappedInt'), 42n);
      assert.equal(valueOf(parse('wrapped_int {}'), 'wrappedInt'), 0n);
    });

    it('packs an expanded Any with the type from the registry', () => {
      const msg = parse('any { [type.googleapis.com/tfmodel.test.Everything]: { int32_value: 5 names: "x" } }');
      const packed = toBinary(EverythingSchema, everything({ int32Value: 5, names: ['x'] }));
      assert.deepEqual(
        valueOf(msg, 'any'),
        create(testRegistry.getMessage('google.protobuf.Any') as DescMessage, {
          typeUrl: 'type.googleapis.com/tfmodel.test.Everything',
          value: packed,
        }),
      );
    });

    it('reads an Any in its plain type_url/value form', () => {
      const any = valueOf(parse(String.raw`any { type_url: "x.com/y.Z" value: "\001" }`), 'any');
      assert.deepEqual(valueOf(any as Message, 'value'), new Uint8Array([1]));
    });

    it('rejects an expanded Any whose type cannot be resolved', () => {
      const text = 'any { [type.googleapis.com/tfmodel.test.Everything] {} }';
      assert.throws(
        () => parseTextFormat(EverythingSchema, text),
        new TextFormatError(1, 7, 'Could not find type "type.googleapis.com/tfmodel.test.Everything" stored in google.protobuf.Any.'),
      );
      assertError('any { [x.com/no.Such] {} }', '1:7: Could not find type "x.com/no.Such" stored in google.protobuf.Any.');
    });

    it('rejects malformed type URLs', () => {
      assertError('any { [tfmodel.test.Everything] {} }', '1:7: Type URL prefix is missing');
      assertError('any { [/tfmodel.test.Everything] {} }', '1:7: Type URL prefix is empty');
      assertError('any { [/x/tfmodel.test.Everything] {} }', '1:7: Type URL starts with "/"');
      assertError('any { [x%2/tfmodel.test.Everything] {} }', '1:7: Invalid percent encode, got: "%2/"');
      assertError('any { [x.com/tfmodel..Everything] {} }', '1:7: Invalid identifier in type name, got: ""');
      assertError('any { [x.com/a.B', '1:17: Expected "]", found end of input.');
      assertError('any { [x.com/a.B} }', '1:17: Expected "]", found "}".');
    });

    it('rejects an Any given twice', () => {
      const expanded = '[type.googleapis.com/tfmodel.test.Everything] {}';
      assertError(`any { ${expanded} ${expanded} }`, '1:56: Non-repeated Any specified multiple times.');
      assertError(`any { ${expanded} type_url: "a/b.C" }`, '1:64: Non-repeated field "type_url" is specified multiple times.');
    });

    it('rejects extension syntax, which we do not support', () => {
      assertError(
        '[tfmodel.test.ext]: 1',
        '1:1: Extension "tfmodel.test.ext" is not defined or is not an extension of "tfmodel.test.Everything".',
      );
    });
  });

  describe('structure errors', () => {
    it('rejects unknown fields, worded like C++ and located at the token after the name (as protoc reports them)', () => {
      assertError('foo: 1', '1:4: Message type "tfmodel.test.Everything" has no field named "foo".');
      assertError('child {\n  int32_value: 1\n  bogus { }\n}', '3:9: Message type "tfmodel.test.Everything" has no field named "bogus".');
    });

    it('requires a colon before scalar values', () => {
      assertError('int32_value 1', '1:13: Expected ":", found "1".');
      assertError('color GREEN', '1:7: Expected ":", found "GREEN".');
    });

    it('requires balanced delimiters', () => {
      assertError('child: 1', '1:8: Expected "{", found "1".');
      assertError('child { int32_value: 1', '1:23: Expected "}", found end of input.');
      assertError('child { int32_value: 1 >', '1:24: Expected "}", found ">".');
      assertError('}', '1:1: Expected identifier, got: }');
      assertError('"x"', '1:1: Expected identifier, got: "x"');
    });

    it('reports 1-based line and column on the error', () => {
      const e = errorOf('int32_value: 1\n\n   \tbogus: 2');
      assert.equal(e.name, 'TextFormatError');
      assert.equal(e.line, 3);
      // Columns as C++'s tokenizer counts them: a tab advances to the next multiple of 8 (protoc
      // reports 3:14 for this line); the error sits at the token after the name.
      assert.equal(e.column, 14);
      assert.ok(e instanceof Error);
    });
  });

  describeWithSharedModels('TF Serving config files', () => {
    const read = (name: string) => readFileSync(new URL(name, TF_SERVING), 'utf8');

    it('reads good_model_config.txt', () => {
      const text = read('good_model_config.txt')
        .replace('${TEST_HALF_PLUS_TWO_DIR}', '/models/half_plus_two')
        .replace('${TEST_HALF_PLUS_THREE_DIR}', '/models/half_plus_three');
      assert.deepEqual(
        parseTextFormat(ModelServerConfigSchema, text),
        create(ModelServerConfigSchema, {
          config: {
            case: 'modelConfigList',
            value: {
              config: [
                { name: 'half_plus_two', basePath: '/models/half_plus_two', modelPlatform: 'tensorflow' },
                { name: 'half_plus_three', basePath: '/models/half_plus_three', modelPlatform: 'tensorflow' },
              ],
            },
          },
        }),
      );
    });

    it('rejects bad_model_config.txt', () => {
      assertError(
        read('bad_model_config.txt'),
        '1:12: Message type "tensorflow.serving.ModelServerConfig" has no field named "improperly".',
        ModelServerConfigSchema,
      );
    });

    it('reads batching_config.txt, whose fields are Int64Value wrappers', () => {
      assert.deepEqual(
        parseTextFormat(BatchingParametersSchema, read('batching_config.txt')),
        create(BatchingParametersSchema, {
          maxBatchSize: 128n,
          batchTimeoutMicros: 0n,
          maxEnqueuedBatches: 1000000n,
          numBatchThreads: 8n,
        }),
      );
    });

    it('reads monitoring_config.txt', () => {
      assert.deepEqual(
        parseTextFormat(MonitoringConfigSchema, read('monitoring_config.txt')),
        create(MonitoringConfigSchema, { prometheusConfig: { enable: true, path: '/monitoring/prometheus/metrics' } }),
      );
    });

    it('reads version policies and labels as documented for tensorflow_model_server', () => {
      const text = `
        model_config_list {
          config {
            name: 'my_first_model'
            base_path: '/tmp/my_first_model/'
            model_platform: 'tensorflow'
            model_version_policy { specific { versions: 42 versions: 43 } }
            version_labels { key: 'stable' value: 42 }
            version_labels { key: 'canary' value: 43 }
          }
          config {
            name: 'my_second_model'
            base_path: '/tmp/my_second_model/'
            model_version_policy: { all: {} }
          }
        }`;
      assert.deepEqual(
        parseTextFormat(ModelServerConfigSchema, text),
        create(ModelServerConfigSchema, {
          config: {
            case: 'modelConfigList',
            value: {
              config: [
                {
                  name: 'my_first_model',
                  basePath: '/tmp/my_first_model/',
                  modelPlatform: 'tensorflow',
                  modelVersionPolicy: { policyChoice: { case: 'specific', value: { versions: [42n, 43n] } } },
                  versionLabels: { stable: 42n, canary: 43n },
                },
                {
                  name: 'my_second_model',
                  basePath: '/tmp/my_second_model/',
                  modelVersionPolicy: { policyChoice: { case: 'all', value: {} } },
                },
              ],
            },
          },
        }),
      );
    });

    it('rejects two version policies for one model', () => {
      assertError(
        'model_config_list { config { model_version_policy { latest { num_versions: 2 } all {} } } }',
        '1:84: Field "all" is specified along with field "latest", another member of oneof "policy_choice".',
        ModelServerConfigSchema,
      );
    });
  });
});
