/**
 * The gRPC ceiling: a bare @grpc/grpc-js server (its own process) whose Predict decodes the
 * PredictRequest and echoes its inputs back as the PredictResponse's outputs, protobuf-es both
 * ways as in tfmodel-server, and no model. Logs {"event":"grpc_listening","port":N} on stderr.
 *
 *   node dist/bench/server/bare-grpc-server.js [port]
 */
import { create } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { type PredictRequest, type PredictResponse, PredictResponseSchema } from '../../src/gen/tensorflow_serving/apis/predict_pb.js';
import { decodedPredictMethod } from './grpc-predict.js';

function echoPredict(call: ServerUnaryCall<PredictRequest, PredictResponse>, callback: sendUnaryData<PredictResponse>): void {
  const request = call.request;
  callback(null, create(PredictResponseSchema, { modelSpec: request.modelSpec, outputs: request.inputs }));
}

function main(): void {
  const port = Number(process.argv[2] ?? 0);
  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService({ predict: decodedPredictMethod }, { predict: echoPredict });
  server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
    if (error) throw error;
    console.error(JSON.stringify({ event: 'grpc_listening', port: bound }));
  });
  process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}

main();
