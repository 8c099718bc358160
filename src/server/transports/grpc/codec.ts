/**
 * Protobuf (de)serialisation for grpc-js with protobuf-es. grpc-js answers a deserializer that
 * throws with INTERNAL "Error deserializing request" (1.14: the reason is dropped unless
 * GRPC_NODE_DEBUG_SEND_ERROR_DETAILS is set), so the decoder does not throw: it hands the handler a
 * MalformedRequest, which the handler answers with INVALID_ARGUMENT and the parser's reason.
 */
import { type DescMessage, type MessageShape, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type ServingError, invalidArgument } from '../../errors.js';

/** What a handler receives in place of a request whose bytes did not parse. */
export class MalformedRequest {
  constructor(readonly error: ServingError) {}
}

/** A decoded request, or the reason it could not be decoded. */
export type Received<T> = T | MalformedRequest;

export type Decoder<T> = (bytes: Buffer) => Received<T>;
export type Encoder<T> = (message: T) => Buffer;

/** Smaller requests are not worth a WeakMap entry: they count as 0 bytes in flight. */
export const RECORDED_FROM_BYTES = 4096;

/** The size on the wire of each decoded request (for the in-flight bytes budget). */
const RECEIVED_BYTES = new WeakMap<object, number>();

/** How many bytes a request decoded by a decoder() took on the wire (0 if unknown). */
export function receivedBytesOf(request: object): number {
  return RECEIVED_BYTES.get(request) ?? 0;
}

export function decoder<Desc extends DescMessage>(schema: Desc): Decoder<MessageShape<Desc>> {
  const typeName = schema.typeName;
  return function decode(bytes) {
    try {
      const message = fromBinary(schema, bytes);
      if (bytes.length >= RECORDED_FROM_BYTES) RECEIVED_BYTES.set(message, bytes.length);
      return message;
    } catch (error) {
      return new MalformedRequest(invalidArgument(`Could not parse the request as ${typeName}: ${(error as Error).message}`));
    }
  };
}

/** Throwing decoder for the client side (tests, tools): a bad response is a bug, not an input. */
export function strictDecoder<Desc extends DescMessage>(schema: Desc): (bytes: Buffer) => MessageShape<Desc> {
  return (bytes) => fromBinary(schema, bytes);
}

export function encoder<Desc extends DescMessage>(schema: Desc): Encoder<MessageShape<Desc>> {
  return function encode(message) {
    const bytes = toBinary(schema, message);
    // A view on the same memory: grpc-js only reads it.
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/**
 * A response encoded already (in a worker thread): the server's serializer sends its bytes as
 * they are. `modelSpec` is the response's, for the call's metrics (the version that answered).
 */
export class EncodedMessage {
  constructor(readonly bytes: Buffer, readonly modelSpec?: unknown) {}
}

/** The server side's response serializer: encodes a message, passes an EncodedMessage through. */
export function serverEncoder<Desc extends DescMessage>(schema: Desc): Encoder<MessageShape<Desc> | EncodedMessage> {
  const encode = encoder(schema);
  return (message) => (message instanceof EncodedMessage ? message.bytes : encode(message));
}
