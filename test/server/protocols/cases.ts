/**
 * One case table for every transport: TF Serving's REST and gRPC APIs and the Open Inference
 * Protocol's REST and gRPC, run against the same server and models by real clients. A case is a
 * request and what any transport must answer: the outputs (datatype, shape, values) or the error
 * (gRPC code; REST transports answer its HTTP status).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ExampleSchema } from '../../../src/gen/tensorflow/core/example/example_pb.js';

export interface CaseTensor {
  readonly name: string;
  readonly datatype: 'FP32' | 'FP64' | 'INT64' | 'BYTES';
  readonly shape: readonly number[];
  /** BYTES: base64. */
  readonly values: ReadonlyArray<number | string>;
}

export interface ProtocolCase {
  readonly id: string;
  readonly model: string;
  /** '' latest, a number, or a label. */
  readonly version?: string;
  readonly signature?: string;
  readonly inputs: readonly CaseTensor[];
  readonly outputs?: readonly string[];
  /** The only output's name (TF Serving's REST answers a single output unnamed). */
  readonly single_output?: string;
  /** Transports that cannot express the case, with why. */
  readonly skip?: Readonly<Record<string, string>>;
  readonly expect:
    | { readonly outputs: readonly CaseTensor[]; readonly version: string }
    | { readonly error: { readonly code: 'NOT_FOUND' | 'INVALID_ARGUMENT' | 'FAILED_PRECONDITION'; readonly message: RegExp } };
}

/** A serialized tf.Example {x: float_list [value]} (half_plus_two's classify/regress input). */
export function exampleBase64(value: number): string {
  const example = create(ExampleSchema, { features: { feature: { x: { kind: { case: 'floatList', value: { value: [value] } } } } } });
  return Buffer.from(toBinary(ExampleSchema, example)).toString('base64');
}

const x = (values: number[], shape = [values.length]): CaseTensor => ({ name: 'x', datatype: 'FP32', shape, values });
const y = (values: number[], shape = [values.length]): CaseTensor => ({ name: 'y', datatype: 'FP32', shape, values });

/** Models: hp2 (half_plus_two versions 123 and 124, label stable -> 123), hp3 (half_plus_three), int64 (6x). */
export const PROTOCOL_CASES: readonly ProtocolCase[] = [
  { id: 'latest', model: 'hp2', inputs: [x([1, 2, 5])], single_output: 'y', expect: { outputs: [y([2.5, 3, 4.5])], version: '124' } },
  { id: 'version', model: 'hp2', version: '123', inputs: [x([1, 2, 5], [3, 1])], single_output: 'y', expect: { outputs: [y([2.5, 3, 4.5], [3, 1])], version: '123' } },
  { id: 'label', model: 'hp2', version: 'stable', inputs: [x([-4])], single_output: 'y', expect: { outputs: [y([0])], version: '123' } },
  {
    id: 'output filter', model: 'hp2', inputs: [x([10])], outputs: ['y'], single_output: 'y',
    expect: { outputs: [y([7])], version: '124' },
  },
  {
    id: 'bytes via a classify signature', model: 'hp2', signature: 'classify_x_to_y',
    inputs: [{ name: 'inputs', datatype: 'BYTES', shape: [1], values: [exampleBase64(20)] }], single_output: 'scores',
    skip: { 'tritonclient.http.json': 'JSON BYTES are UTF-8 strings; the client refuses a serialized Example (the binary variant sends it)' },
    expect: { outputs: [{ name: 'scores', datatype: 'FP32', shape: [1, 1], values: [12] }], version: '124' },
  },
  { id: 'other model', model: 'hp3', inputs: [x([1, 3])], single_output: 'y', expect: { outputs: [y([3.5, 4.5])], version: '123' } },
  {
    id: 'int64', model: 'int64', inputs: [{ name: 'x', datatype: 'INT64', shape: [3], values: [1, -7, 1000000] }], single_output: 'output_0',
    expect: { outputs: [{ name: 'output_0', datatype: 'INT64', shape: [3], values: [6, -42, 6000000] }], version: '123' },
  },
  { id: 'unknown model', model: 'nope', inputs: [x([1])], expect: { error: { code: 'NOT_FOUND', message: /Servable not found for request: Latest\(nope\)/ } } },
  { id: 'unknown version', model: 'hp2', version: '999', inputs: [x([1])], expect: { error: { code: 'NOT_FOUND', message: /Specific\(hp2, 999\)/ } } },
  { id: 'unknown label', model: 'hp2', version: 'canary', inputs: [x([1])], expect: { error: { code: 'INVALID_ARGUMENT', message: /Unrecognized servable version label: canary/ } } },
  {
    id: 'unknown signature', model: 'hp2', signature: 'nope', inputs: [x([1])],
    // TF Serving's REST API checks the signature while converting the JSON (INVALID_ARGUMENT);
    // its Predict, and the OIP, when running (FAILED_PRECONDITION). Both are HTTP 400.
    expect: { error: { code: 'FAILED_PRECONDITION', message: /"nope" not found/ } },
  },
  {
    id: 'wrong dtype', model: 'hp2', inputs: [{ name: 'x', datatype: 'FP64', shape: [1], values: [1] }],
    skip: { 'tfserving.rest': "TF Serving's JSON has no dtypes: numbers become the signature's dtype" },
    expect: { error: { code: 'INVALID_ARGUMENT', message: /to be float but double is provided/ } },
  },
  {
    id: 'wrong input name', model: 'hp2', inputs: [{ name: 'z', datatype: 'FP32', shape: [1], values: [1] }],
    expect: { error: { code: 'INVALID_ARGUMENT', message: /input tensor alias not found in signature: z|Missing named input: x/ } },
  },
];
