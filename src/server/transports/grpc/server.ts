/**
 * The gRPC server of tensorflow_model_server: PredictionService and ModelService, optionally the
 * standard health service and TLS from TF Serving's SSLConfig. Messages up to 2 GiB - 1 bytes
 * each way (TF Serving sets INT_MAX with SetMaxMessageSize).
 */
import { lstat, unlink } from 'node:fs/promises';
import { Server, ServerCredentials, type ServerOptions, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { SSLConfig } from '../../../gen/tensorflow_serving/config/ssl_config_pb.js';
import { invalidArgument } from '../../errors.js';
import { HealthService } from './health.js';
import { modelServiceHandlers } from './model-service.js';
import { predictionServiceHandlers } from './prediction-service.js';
import { healthServiceDefinition, inferenceServiceServerDefinition, modelServiceDefinition, predictionServiceServerDefinition } from './service-definitions.js';
import { inferenceServiceHandlers } from './inference-service.js';
import type { ModelRepository } from '../../api/oip/repository.js';
import type { ServiceContext } from './unary.js';
import { MAX_MESSAGE_BYTES } from './limits.js';

export { MAX_MESSAGE_BYTES };

const DEFAULT_SHUTDOWN_GRACE_MS = 5000;

export interface GrpcServerOptions extends ServiceContext {
  /** --enable_grpc_healthcheck_service. */
  readonly healthCheck: boolean;
  /** --ssl_config_file, parsed. Absent: plaintext. */
  readonly ssl?: SSLConfig;
  /** How long close() waits for calls in flight before cutting them (default 5 s). */
  readonly shutdownGraceMs?: number;
  /** How often health Watch re-checks readiness (default 1 s). */
  readonly healthPollMs?: number;
  /** The Open Inference Protocol's model repository extension; absent: its RPCs answer UNIMPLEMENTED. */
  readonly repository?: ModelRepository;
  /** --grpc_channel_arguments, after TF Serving's own settings (so they may override them). */
  readonly channelArguments?: ReadonlyArray<readonly [string, string | number]>;
  /** More services on the same server (the profiler). */
  readonly extraServices?: ReadonlyArray<{ readonly definition: ServiceDefinition; readonly handlers: UntypedServiceImplementation }>;
}

export interface GrpcServer {
  /** Binds host:port (host default 0.0.0.0, as TF Serving); resolves to the bound port (port 0 picks one). */
  listen(port: number, host?: string): Promise<number>;
  /**
   * Also serves on a UNIX socket (--grpc_socket_path, relative or absolute). A socket file left
   * by a previous run is replaced, as gRPC C++ does; any other file there is an error.
   */
  listenUnix(path: string): Promise<void>;
  /** Stops accepting calls, lets those in flight finish, then cuts what is left after the grace period. */
  close(): Promise<void>;
}

export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const serverOptions: ServerOptions = {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    ...Object.fromEntries(options.channelArguments ?? []),
  };
  const server = new Server(serverOptions);
  for (const { definition, handlers } of options.extraServices ?? []) server.addService(definition, handlers);
  server.addService(predictionServiceServerDefinition, predictionServiceHandlers(options));
  server.addService(modelServiceDefinition, modelServiceHandlers(options));
  server.addService(inferenceServiceServerDefinition, inferenceServiceHandlers(options, options.repository));
  const health = options.healthCheck
    ? new HealthService({ isReady: () => options.core.isReady(), pollMs: options.healthPollMs })
    : undefined;
  if (health) server.addService(healthServiceDefinition, health.handlers);
  const credentials = serverCredentials(options.ssl);

  return {
    listen(port, host = '0.0.0.0') {
      const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      return new Promise((resolve, reject) => {
        server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
      });
    },
    async listenUnix(path) {
      const existing = await lstat(path).catch(() => undefined);
      if (existing?.isSocket()) await unlink(path);
      else if (existing) throw invalidArgument(`--grpc_socket_path ${path} exists and is not a socket`);
      await new Promise<number>((resolve, reject) => {
        server.bindAsync(`unix:${path}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
      });
    },
    close() {
      health?.shutdown();
      return shutdown(server, options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
    },
  };
}

/** TF Serving's BuildServerCredentialsFromSSLConfigFile, for grpc-js. */
export function serverCredentials(ssl: SSLConfig | undefined): ServerCredentials {
  if (!ssl) return ServerCredentials.createInsecure();
  if (!ssl.serverKey || !ssl.serverCert) throw invalidArgument('SSLConfig needs server_key and server_cert (PEM contents)');
  const rootCerts = ssl.customCa ? Buffer.from(ssl.customCa) : null;
  const pair = { private_key: Buffer.from(ssl.serverKey), cert_chain: Buffer.from(ssl.serverCert) };
  // client_verify: request, require and verify a client certificate (against custom_ca if given).
  return ServerCredentials.createSsl(rootCerts, [pair], ssl.clientVerify);
}

function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      server.forceShutdown();
      finish();
    }, graceMs);
    server.tryShutdown(finish);
  });
}
