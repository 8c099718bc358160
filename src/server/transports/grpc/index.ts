/** The gRPC transport's public surface. */
export { type GrpcServer, type GrpcServerOptions, MAX_MESSAGE_BYTES, createGrpcServer, serverCredentials } from './server.js';
export { toGrpcStatus, type GrpcErrorStatus } from './status.js';
export { healthServiceDefinition, modelServiceDefinition, predictionServiceDefinition, serviceDefinition } from './service-definitions.js';
export { HEALTH_CHECKED_SERVICES } from './health.js';
