import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { create, createRegistry, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Message } from '@bufbuild/protobuf';
import { fromText, toText } from '@bufbuild/protobuf/txtpb';
import { file_tensorflow_core_protobuf_meta_graph } from '../../gen/tensorflow/core/protobuf/meta_graph_pb.js';
import { SavedModelSchema } from '../../gen/tensorflow/core/protobuf/saved_model_pb.js';
import { SHARED_SAVEDMODELS, sharedSavedModelsPresent } from '../../../test/support/shared-savedmodels.js';
import { HALF_PLUS_TWO, TEST_MODELS } from '../../../test/support/test-models.js';
import { parseTextFormat, printTextFormat } from './index.js';
import { EverythingSchema, LegacySchema, ModelServerConfigSchema, testRegistry } from './testdata/schemas.js';

/** Our own TensorFlow-written test models, and TF Serving's and tfjs-node's when present. */
const SAVEDMODEL_ROOTS = (): URL[] => [TEST_MODELS, ...(sharedSavedModelsPresent() ? [SHARED_SAVEDMODELS] : [])].map((dir) => pathToFileURL(`${dir}/`));

function everything(init: Record<string, unknown>): Message {
  return create(EverythingSchema, init);
}

function print(msg: Message): string {
  return printTextFormat(EverythingSchema, msg);
}

/** Deterministic pseudo-random 32-bit words (xorshift32), so failures reproduce. */
function* randomWords(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield x >>> 0;
  }
}

describe('printTextFormat', () => {
  it('prints every kind of field in field-number order, C++ style', () => {
    const msg = everything({
      doubleValue: 0.25,
      floatValue: Math.fround(0.1),
      int32Value: -7,
      int64Value: -9223372036854775808n,
      uint64Value: 18446744073709551615n,
      boolValue: true,
      stringValue: 'a "q" é',
      bytesValue: new Uint8Array([0, 0x41, 0xff]),
      color: 2,
      child: { int32Value: 1 },
      numbers: [1, -2],
      names: ['x', 'y'],
      children: [{}, { boolValue: true }],
      colors: [1, 9],
      labels: { b: 2n, a: 0n },
      byId: { 10: {}, [-1]: { int32Value: 3 }, 2: {} },
      flags: { true: 1, false: 0 },
      choice: { case: 'number', value: 0 },
      wrappedInt: 5n,
      maybe: 0,
    });
    assert.equal(
      print(msg),
      String.raw`double_value: 0.25
float_value: 0.1
int32_value: -7
int64_value: -9223372036854775808
uint64_value: 18446744073709551615
bool_value: true
string_value: "a \"q\" \303\251"
bytes_value: "\000A\377"
color: GREEN
child {
  int32_value: 1
}
numbers: 1
numbers: -2
names: "x"
names: "y"
children {
}
children {
  bool_value: true
}
colors: RED
colors: 9
labels {
  key: "a"
  value: 0
}
labels {
  key: "b"
  value: 2
}
by_id {
  key: -1
  value {
    int32_value: 3
  }
}
by_id {
  key: 2
  value {
  }
}
by_id {
  key: 10
  value {
  }
}
flags {
  key: false
  value: COLOR_UNSPECIFIED
}
flags {
  key: true
  value: RED
}
number: 0
wrapped_int {
  value: 5
}
maybe: 0
`,
    );
  });

  it('leaves out proto3 fields at their default, but not fields with presence', () => {
    assert.equal(print(everything({ int32Value: 0, stringValue: '', numbers: [], labels: {} })), '');
    assert.equal(print(everything({ wrappedInt: 0n, maybe: 0, child: {} })), 'child {\n}\nwrapped_int {\n}\nmaybe: 0\n');
    assert.equal(printTextFormat(LegacySchema, create(LegacySchema, { count: 0 })), 'count: 0\n');
    assert.equal(printTextFormat(LegacySchema, create(LegacySchema, {})), '');
  });

  it('C-escapes strings and bytes like CEscape', () => {
    const msg = everything({ stringValue: '"\'\\\n\r\t\x01\x7fé😀', blobs: [new Uint8Array([0x00, 0x0a, 0x22, 0x7e, 0x80, 0xff])] });
    assert.equal(
      print(msg),
      String.raw`string_value: "\"\'\\\n\r\t\001\177\303\251\360\237\230\200"
blobs: "\000\n\"~\200\377"
`,
    );
  });

  it('prints floats with 6 significant digits, or 9 when 6 do not read back', () => {
    const cases: [number, string][] = [
      [0.1, '0.1'],
      [1 / 3, '0.333333343'],
      [1e-10, '1e-10'],
      [3.4028234663852886e38, '3.40282347e+38'],
      [16777216, '16777216'],
      [123456.7, '123456.703'],
      [-0, '-0'],
      [Infinity, 'inf'],
      [NaN, 'nan'],
    ];
    const floats = cases.map(([value]) => Math.fround(value));
    assert.equal(print(everything({ floats })), cases.map(([, text]) => `floats: ${text}\n`).join(''));
  });

  it('prints doubles in the shortest form that reads back', () => {
    const cases: [number, string][] = [
      [0.1, '0.1'],
      [1 / 3, '0.3333333333333333'],
      [1e21, '1e+21'],
      [1e-7, '1e-7'],
      [2 ** 53 + 2, '9007199254740994'],
      [-0, '-0'],
      [-Infinity, '-inf'],
      [NaN, 'nan'],
    ];
    const doubles = cases.map(([value]) => value);
    assert.equal(print(everything({ doubles })), cases.map(([, text]) => `doubles: ${text}\n`).join(''));
  });

  it('prints floats and doubles that parse back bit for bit', () => {
    const words = randomWords(0x9e3779b9);
    const view = new DataView(new ArrayBuffer(8));
    const floats: number[] = [];
    const doubles: number[] = [];
    for (let i = 0; i < 5000; i++) {
      view.setUint32(0, words.next().value as number);
      floats.push(view.getFloat32(0));
      view.setUint32(4, words.next().value as number);
      doubles.push(view.getFloat64(0));
    }
    const parsed = parseTextFormat(EverythingSchema, print(everything({ floats, doubles })));
    // Object.is tells -0 from 0 and matches NaN with NaN.
    const sameBits = (a: unknown, b: number[]) =>
      Array.isArray(a) && a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
    const fields = parsed as unknown as Record<string, unknown>;
    assert.ok(sameBits(fields.floats, floats));
    assert.ok(sameBits(fields.doubles, doubles));
  });

  it('indents by the given number of spaces per level', () => {
    const msg = everything({ child: { child: { int32Value: 1 } } });
    assert.equal(printTextFormat(EverythingSchema, msg, { indent: 4 }), 'child {\n    child {\n        int32_value: 1\n    }\n}\n');
  });

  describe('google.protobuf.Any', () => {
    const packed = everything({
      any: { typeUrl: 'type.googleapis.com/tfmodel.test.Everything', value: toBinary(EverythingSchema, everything({ int32Value: 5 })) },
    });

    it('prints type_url and value without a registry', () => {
      assert.equal(print(packed), 'any {\n  type_url: "type.googleapis.com/tfmodel.test.Everything"\n  value: "\\030\\005"\n}\n');
    });

    it('prints the expanded form when the registry knows the type, and reads it back', () => {
      const text = printTextFormat(EverythingSchema, packed, { registry: testRegistry });
      assert.equal(text, 'any {\n  [type.googleapis.com/tfmodel.test.Everything] {\n    int32_value: 5\n  }\n}\n');
      assert.deepEqual(parseTextFormat(EverythingSchema, text, { registry: testRegistry }), packed);
    });

    it('falls back to type_url and value for types the registry does not know', () => {
      const unknown = everything({ any: { typeUrl: 'x.com/no.Such', value: new Uint8Array([1]) } });
      assert.equal(
        printTextFormat(EverythingSchema, unknown, { registry: testRegistry }),
        'any {\n  type_url: "x.com/no.Such"\n  value: "\\001"\n}\n',
      );
    });
  });

  it('prints a model.config that reads back to the same ModelServerConfig', () => {
    const config = create(ModelServerConfigSchema, {
      config: {
        case: 'modelConfigList',
        value: {
          config: [
            {
              name: 'half_plus_two',
              basePath: '/models/half_plus_two',
              modelPlatform: 'tensorflow',
              modelVersionPolicy: { policyChoice: { case: 'specific', value: { versions: [1n, 2n] } } },
              versionLabels: { stable: 1n, canary: 2n },
            },
            { name: 'counter', basePath: '/models/counter', modelPlatform: 'tensorflow' },
          ],
        },
      },
    });
    const text = printTextFormat(ModelServerConfigSchema, config);
    assert.equal(
      text,
      `model_config_list {
  config {
    name: "half_plus_two"
    base_path: "/models/half_plus_two"
    model_platform: "tensorflow"
    model_version_policy {
      specific {
        versions: 1
        versions: 2
      }
    }
    version_labels {
      key: "canary"
      value: 2
    }
    version_labels {
      key: "stable"
      value: 1
    }
  }
  config {
    name: "counter"
    base_path: "/models/counter"
    model_platform: "tensorflow"
  }
}
`,
    );
    assert.deepEqual(parseTextFormat(ModelServerConfigSchema, text), config);
  });

  describe('round trip through real SavedModels', () => {
    const files = SAVEDMODEL_ROOTS().flatMap((root) =>
      readdirSync(root, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('saved_model.pb'))
        .sort()
        .map((f) => new URL(f, root)),
    );

    it('finds the SavedModels', () => assert.ok(files.length >= 5, `${files.length} saved_model.pb files`));

    for (const file of files) {
      it(file.pathname, () => {
        const original = fromBinary(SavedModelSchema, readFileSync(file));
        const text = printTextFormat(SavedModelSchema, original);
        const parsed = parseTextFormat(SavedModelSchema, text);
        assert.ok(equals(SavedModelSchema, original, parsed));
        // Catches what equals() does not: -0 versus 0, NaN.
        assert.equal(printTextFormat(SavedModelSchema, parsed), text);
        // protobuf-es's own text format reads our output alike, and we read its output.
        assert.ok(equals(SavedModelSchema, original, fromText(SavedModelSchema, text)));
        assert.ok(equals(SavedModelSchema, original, parseTextFormat(SavedModelSchema, toText(SavedModelSchema, original))));
      });
    }

    it('expands the AssetFileDef Any of half_plus_two and reads it back', () => {
      const registry = createRegistry(file_tensorflow_core_protobuf_meta_graph);
      const bytes = readFileSync(join(HALF_PLUS_TWO, 'saved_model.pb'));
      const original = fromBinary(SavedModelSchema, bytes);
      const text = printTextFormat(SavedModelSchema, original, { registry });
      assert.match(text, /\[type\.googleapis\.com\/tensorflow\.AssetFileDef\] \{\n\s+tensor_info \{\n\s+name: "filename_tensor:0"/);
      assert.ok(equals(SavedModelSchema, original, parseTextFormat(SavedModelSchema, text, { registry })));
    });
  });
});
