/**
 * Reading our config files (model.config, batching, monitoring, SSL) as TF Serving's
 * ParseProtoTextFile does: a syntax error is the Status "Invalid protobuf file: '<file>'", and
 * protobuf's own log line says where and what, worded and located as C++'s TextFormat reports it
 * ("Error parsing text-format tensorflow.serving.ModelServerConfig: 3:5: ...").
 */
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { TextFormatError, parseTextFormat } from '../../common/protobuf-text/index.js';
import { Code, ServingError } from '../errors.js';

export class ProtoTextFileError extends ServingError {
  /** What protobuf logs (to stderr) in TF Serving. */
  readonly protobufLog: string;

  constructor(source: string, typeName: string, cause: TextFormatError) {
    super(Code.INVALID_ARGUMENT, `Invalid protobuf file: '${source}'`, { cause });
    this.protobufLog = `Error parsing text-format ${typeName}: ${cause.message}`;
  }
}

export function parseProtoText<Desc extends DescMessage>(schema: Desc, text: string, source: string): MessageShape<Desc> {
  try {
    return parseTextFormat(schema, text);
  } catch (error) {
    if (error instanceof TextFormatError) throw new ProtoTextFileError(source, schema.typeName, error);
    throw error;
  }
}

/** The error and, for a syntax error, protobuf's line: what a log entry should carry. */
export function describeConfigError(error: ServingError): { error: string; protobuf?: string } {
  return { error: error.toString(), ...(error instanceof ProtoTextFileError ? { protobuf: error.protobufLog } : {}) };
}
