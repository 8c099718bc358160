/**
 * grpc-js ServiceDefinitions built from the protobuf-es service descriptors: paths exactly as
 * TF Serving's ("/tensorflow.serving.PredictionService/Predict"), codecs from the generated
 * schemas, no proto-loader and nothing looked up per call.
 */
import type { MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { MethodDefinition, ServiceDefinition, handleUnaryCall } from '@grpc/grpc-js';
import { Health } from '../../../gen/grpc/health/v1/health_pb.js';
import { GRPCInferenceService } from '../../../gen/inference/grpc_service_pb.js';
import { ModelService } from '../../../gen/tensorflow_serving/apis/model_service_pb.js';
import { PredictionService } from '../../../gen/tensorflow_serving/apis/prediction_service_pb.js';
import { type EncodedMessage, type Received, decoder, encoder, serverEncoder, strictDecoder } from './codec.js';

/** Per method (keyed by its local name, e.g. `predict`): requests may arrive malformed. */
export type GrpcServiceDefinition<M extends GenServiceMethods> = {
  readonly [K in keyof M]: MethodDefinition<Received<MessageShape<M[K]['input']>>, MessageShape<M[K]['output']>>;
};

export function serviceDefinition<M extends GenServiceMethods>(service: GenService<M>): GrpcServiceDefinition<M> & ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const requestEncode = encoder(method.input);
    const responseEncode = encoder(method.output);
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: requestEncode as (value: unknown) => Buffer,
      requestDeserialize: decoder(method.input),
      responseSerialize: responseEncode as (value: unknown) => Buffer,
      responseDeserialize: strictDecoder(method.output),
      originalName: method.localName,
    };
  }
  return definition as GrpcServiceDefinition<M> & ServiceDefinition;
}

/**
 * The server's side of a service: the methods named in `raw` get their request as the bytes
 * grpc-js received (decoded by the handler, on the event loop or in a worker: big-requests.ts),
 * and every method may answer with an EncodedMessage (encoded in a worker).
 */
export type ServerServiceDefinition<M extends GenServiceMethods, Raw extends keyof M> = {
  readonly [K in keyof M]: MethodDefinition<K extends Raw ? Buffer : Received<MessageShape<M[K]['input']>>, MessageShape<M[K]['output']> | EncodedMessage>;
};

export function serverServiceDefinition<M extends GenServiceMethods, Raw extends keyof M & string = never>(
  service: GenService<M>,
  raw: readonly Raw[] = [],
): ServerServiceDefinition<M, Raw> & ServiceDefinition {
  const client = serviceDefinition(service) as Record<string, MethodDefinition<unknown, unknown>>;
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const bytesAsTheyCame = (bytes: Buffer): Buffer => bytes;
    definition[method.localName] = {
      ...client[method.localName]!,
      ...((raw as readonly string[]).includes(method.localName) ? { requestDeserialize: bytesAsTheyCame } : {}),
      responseSerialize: serverEncoder(method.output) as (value: unknown) => Buffer,
    };
  }
  return definition as ServerServiceDefinition<M, Raw> & ServiceDefinition;
}

export const predictionServiceDefinition = serviceDefinition(PredictionService);
export const modelServiceDefinition = serviceDefinition(ModelService);
export const healthServiceDefinition = serviceDefinition(Health);
export const inferenceServiceDefinition = serviceDefinition(GRPCInferenceService);

export const predictionServiceServerDefinition = serverServiceDefinition(PredictionService, ['predict']);
export const inferenceServiceServerDefinition = serverServiceDefinition(GRPCInferenceService, ['modelInfer']);

/** The grpc-js handler type for each unary method of a definition. */
export type UnaryHandlers<D> = {
  [K in keyof D]: D[K] extends MethodDefinition<infer Req, infer Res> ? handleUnaryCall<Req, Res> : never;
};
