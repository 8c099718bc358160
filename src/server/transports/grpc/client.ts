/**
 * A small typed unary client over the same ServiceDefinitions (tests, benchmarks, tools): one
 * grpc-js Client per channel, calls by method definition.
 */
import { type CallOptions, Client, type ChannelCredentials, type ChannelOptions, Metadata, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import { MAX_MESSAGE_BYTES } from './limits.js';

export function grpcClient(address: string, credentials: ChannelCredentials, options: ChannelOptions = {}): Client {
  return new Client(address, credentials, {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    ...options,
  });
}

/** Calls a unary method (with `metadata` as the call's metadata); rejects with the grpc-js ServiceError (code, details). */
export function unaryCall<Req, Res>(client: Client, method: MethodDefinition<Req, Res>, request: Req, options: CallOptions = {}, metadata: Metadata = new Metadata()): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, metadata, options,
      (error: ServiceError | null, response?: Res) => (error ? reject(error) : resolve(response!)));
  });
}
