// Test-only descriptors built at runtime from FileDescriptorProtos: a message with every kind
// of field, a proto2 message (closed enum), and the TF Serving config messages we have no
// .proto files for yet (field numbers from tensorflow_serving/config/*.proto).
import { create, createFileRegistry } from '@bufbuild/protobuf';
import type { DescMessage, MessageInitShape, Registry } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_any,
  file_google_protobuf_wrappers,
} from '@bufbuild/protobuf/wkt';
import type { DescriptorProtoSchema, FieldDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';

type FieldInit = MessageInitShape<typeof FieldDescriptorProtoSchema>;
type MessageInit = MessageInitShape<typeof DescriptorProtoSchema>;

function field(name: string, number: number, type: Type, more: FieldInit = {}): FieldInit {
  return { name, number, type, label: Label.OPTIONAL, ...more };
}

function message(name: string, typeName: string, more: FieldInit = {}): FieldInit {
  return { name, type: Type.MESSAGE, typeName: `.${typeName}`, label: Label.OPTIONAL, ...more };
}

const repeated: FieldInit = { label: Label.REPEATED };

/** A map field plus the nested entry type it needs, as protoc lays them out. */
function mapField(
  parent: string,
  name: string,
  number: number,
  key: Type,
  value: FieldInit,
): { field: FieldInit; entry: MessageInit } {
  const entryName = `${name.replace(/(^|_)(.)/g, (_, __, c: string) => c.toUpperCase())}Entry`;
  return {
    field: message(name, `${parent}.${entryName}`, { number, label: Label.REPEATED }),
    entry: {
      name: entryName,
      field: [field('key', 1, key), { ...value, name: 'value', number: 2, label: Label.OPTIONAL }],
      options: { mapEntry: true },
    },
  };
}

const EVERYTHING = 'tfmodel.test.Everything';
const labels = mapField(EVERYTHING, 'labels', 22, Type.STRING, field('', 0, Type.INT64));
const byId = mapField(EVERYTHING, 'by_id', 23, Type.INT32, message('', EVERYTHING));
const flags = mapField(EVERYTHING, 'flags', 24, Type.BOOL, field('', 0, Type.ENUM, { typeName: '.tfmodel.test.Color' }));

const everythingFile = create(FileDescriptorProtoSchema, {
  name: 'tfmodel/test/everything.proto',
  package: 'tfmodel.test',
  syntax: 'proto3',
  dependency: ['google/protobuf/any.proto', 'google/protobuf/wrappers.proto'],
  enumType: [
    {
      name: 'Color',
      value: [
        { name: 'COLOR_UNSPECIFIED', number: 0 },
        { name: 'RED', number: 1 },
        { name: 'GREEN', number: 2 },
      ],
    },
  ],
  messageType: [
    {
      name: 'Everything',
      field: [
        field('double_value', 1, Type.DOUBLE),
        field('float_value', 2, Type.FLOAT),
        field('int32_value', 3, Type.INT32),
        field('int64_value', 4, Type.INT64),
        field('uint32_value', 5, Type.UINT32),
        field('uint64_value', 6, Type.UINT64),
        field('sint32_value', 7, Type.SINT32),
        field('sint64_value', 8, Type.SINT64),
        field('fixed32_value', 9, Type.FIXED32),
        field('fixed64_value', 10, Type.FIXED64),
        field('sfixed32_value', 11, Type.SFIXED32),
        field('sfixed64_value', 12, Type.SFIXED64),
        field('bool_value', 13, Type.BOOL),
        field('string_value', 14, Type.STRING),
        field('bytes_value', 15, Type.BYTES),
        field('color', 16, Type.ENUM, { typeName: '.tfmodel.test.Color' }),
        message('child', EVERYTHING, { number: 17 }),
        field('numbers', 18, Type.INT32, repeated),
        field('names', 19, Type.STRING, repeated),
        message('children', EVERYTHING, { number: 20, ...repeated }),
        field('colors', 21, Type.ENUM, { typeName: '.tfmodel.test.Color', ...repeated }),
        labels.field,
        byId.field,
        flags.field,
        field('text', 25, Type.STRING, { oneofIndex: 0 }),
        field('number', 26, Type.INT32, { oneofIndex: 0 }),
        message('nested', EVERYTHING, { number: 27, oneofIndex: 0 }),
        message('any', 'google.protobuf.Any', { number: 28 }),
        message('wrapped_int', 'google.protobuf.Int64Value', { number: 29 }),
        field('maybe', 30, Type.INT32, { oneofIndex: 1, proto3Optional: true }),
        field('floats', 31, Type.FLOAT, repeated),
        field('doubles', 32, Type.DOUBLE, repeated),
        field('blobs', 33, Type.BYTES, repeated),
      ],
      nestedType: [labels.entry, byId.entry, flags.entry],
      oneofDecl: [{ name: 'choice' }, { name: '_maybe' }],
    },
  ],
});

const legacyFile = create(FileDescriptorProtoSchema, {
  name: 'tfmodel/test/legacy.proto',
  package: 'tfmodel.test',
  syntax: 'proto2',
  enumType: [
    {
      name: 'Level',
      value: [
        { name: 'LOW', number: 1 },
        { name: 'HIGH', number: 2 },
      ],
    },
  ],
  messageType: [
    {
      name: 'Legacy',
      field: [
        field('level', 1, Type.ENUM, { typeName: '.tfmodel.test.Level' }),
        field('count', 2, Type.INT32),
      ],
    },
  ],
});

const POLICY = 'tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy';
const versionLabels = mapField('tensorflow.serving.ModelConfig', 'version_labels', 8, Type.STRING, field('', 0, Type.INT64));
const int64Value = (name: string, number: number) => message(name, 'google.protobuf.Int64Value', { number });

const servingFile = create(FileDescriptorProtoSchema, {
  name: 'tensorflow_serving/config/test_configs.proto',
  package: 'tensorflow.serving',
  syntax: 'proto3',
  dependency: ['google/protobuf/any.proto', 'google/protobuf/wrappers.proto'],
  messageType: [
    {
      name: 'FileSystemStoragePathSourceConfig',
      nestedType: [
        {
          name: 'ServableVersionPolicy',
          nestedType: [
            { name: 'Latest', field: [field('num_versions', 1, Type.UINT32)] },
            { name: 'All' },
            { name: 'Specific', field: [field('versions', 1, Type.INT64, repeated)] },
          ],
          field: [
            message('latest', `${POLICY}.Latest`, { number: 100, oneofIndex: 0 }),
            message('all', `${POLICY}.All`, { number: 101, oneofIndex: 0 }),
            message('specific', `${POLICY}.Specific`, { number: 102, oneofIndex: 0 }),
          ],
          oneofDecl: [{ name: 'policy_choice' }],
        },
      ],
    },
    {
      name: 'ModelConfig',
      field: [
        field('name', 1, Type.STRING),
        field('base_path', 2, Type.STRING),
        field('model_platform', 4, Type.STRING),
        message('model_version_policy', POLICY, { number: 7 }),
        versionLabels.field,
      ],
      nestedType: [versionLabels.entry],
      reservedRange: [{ start: 5, end: 6 }],
    },
    { name: 'ModelConfigList', field: [message('config', 'tensorflow.serving.ModelConfig', { number: 1, ...repeated })] },
    {
      name: 'ModelServerConfig',
      field: [
        message('model_config_list', 'tensorflow.serving.ModelConfigList', { number: 1, oneofIndex: 0 }),
        message('custom_model_config', 'google.protobuf.Any', { number: 2, oneofIndex: 0 }),
      ],
      oneofDecl: [{ name: 'config' }],
    },
    {
      name: 'BatchingParameters',
      field: [
        int64Value('max_batch_size', 1),
        int64Value('batch_timeout_micros', 2),
        int64Value('max_enqueued_batches', 3),
        int64Value('num_batch_threads', 4),
        message('thread_pool_name', 'google.protobuf.StringValue', { number: 5 }),
        field('allowed_batch_sizes', 6, Type.INT64, repeated),
      ],
    },
    {
      name: 'PrometheusConfig',
      field: [field('enable', 1, Type.BOOL), field('path', 2, Type.STRING)],
    },
    {
      name: 'MonitoringConfig',
      field: [message('prometheus_config', 'tensorflow.serving.PrometheusConfig', { number: 1 })],
    },
  ],
});

const wellKnown = new Map([file_google_protobuf_any, file_google_protobuf_wrappers].map((f) => [f.proto.name, f]));

/** Every test type plus Any and the wrappers. */
export const testRegistry: Registry = createFileRegistry(
  createFileRegistry(everythingFile, (name) => wellKnown.get(name)),
  createFileRegistry(legacyFile, () => undefined),
  createFileRegistry(servingFile, (name) => wellKnown.get(name)),
);

function messageSchema(typeName: string): DescMessage {
  const desc = testRegistry.getMessage(typeName);
  if (desc === undefined) throw new Error(`test schema ${typeName} is missing`);
  return desc;
}

export const EverythingSchema = messageSchema(EVERYTHING);
export const LegacySchema = messageSchema('tfmodel.test.Legacy');
export const ModelServerConfigSchema = messageSchema('tensorflow.serving.ModelServerConfig');
export const BatchingParametersSchema = messageSchema('tensorflow.serving.BatchingParameters');
export const MonitoringConfigSchema = messageSchema('tensorflow.serving.MonitoringConfig');
