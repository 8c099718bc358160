import assert from 'node:assert/strict';
import { toJson } from '@bufbuild/protobuf';
import { ExampleSchema } from '../../../gen/tensorflow/core/example/example_pb.js';
import { Code, ServingError } from '../../errors.js';
import { exampleInputFromJson } from './json-example.js';
import { parseBody } from './json-parse.js';

const input = (json: string) => exampleInputFromJson(parseBody(json, true).doc);

function rejects(json: string, message: string): void {
  assert.throws(
    () => input(json),
    (e: unknown) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && e.message === message,
    json,
  );
}

describe('REST classify/regress JSON -> tf.Example', () => {
  it('maps strings and b64 to bytes_list, decimals to float_list, integers and booleans to int64_list', () => {
    const { examples, context } = input(`{
      "context": {"country": "fr", "bits": {"b64": "AP8="}},
      "examples": [
        {"x": 80.0, "ids": [1, 9223372036854775807, true], "w": [1e-3, 2.5], "tag": ["a", {"b64": "Yg=="}], "none": []},
        {"x": 80}
      ]
    }`);
    assert.deepEqual(toJson(ExampleSchema, context!), {
      features: { feature: { country: { bytesList: { value: ['ZnI='] } }, bits: { bytesList: { value: ['AP8='] } } } },
    });
    assert.deepEqual(toJson(ExampleSchema, examples[0]!), {
      features: {
        feature: {
          x: { floatList: { value: [80] } },
          ids: { int64List: { value: ['1', '9223372036854775807', '1'] } },
          w: { floatList: { value: [0.001, 2.5] } },
          tag: { bytesList: { value: ['YQ==', 'Yg=='] } },
          none: {},
        },
      },
    });
    // Written without a decimal point, 80 is an int64 (the model then refuses it, as in TF Serving).
    assert.deepEqual(toJson(ExampleSchema, examples[1]!), { features: { feature: { x: { int64List: { value: ['80'] } } } } });
  });

  it('refuses malformed examples with TF Serving messages', () => {
    rejects('{"signature_name": "s"}',
      'JSON Value: {\n    "signature_name": "s"\n} When method is classify, key \'examples\' is expected and was not found');
    rejects('{"examples": {}}', 'JSON Value: {\n    "examples": {}\n} Expecting \'examples\' value to be an list/array');
    rejects('{"examples": []}', 'JSON Value: {\n    "examples": []\n} \'examples\' value is an empty array');
    rejects('{"examples": [1]}', 'Example must be JSON object but got JSON Number');
    rejects('{"context": [], "examples": [{}]}', 'Example must be JSON object but got JSON Array');
    rejects('{"examples": [{"names": [10, null]}]}', 'Feature: names has element with unexpected JSON type: Null');
    rejects('{"examples": [{"names": [10, 10.0]}]}', 'Unexpected element type in feature: names expecting type: int64');
    rejects('{"examples": [{"names": [10, {"test": 10}]}]}', 'Feature: names has element with unexpected JSON type: Object');
    rejects('{"examples": [{"names": [[10], 20]}]}', 'Feature: names has element with unexpected JSON type: Array');
    rejects('{"examples": [{"names": [20, 18446744073709551603]}]}', 'Feature: names has uint64_t element. Only int64_t is supported.');
    rejects('{"examples": [{"names": {"b64": "*"}}]}', 'Unable to base64 decode');
  });
});
