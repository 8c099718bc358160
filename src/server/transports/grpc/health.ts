/**
 * grpc.health.v1.Health (--enable_grpc_healthcheck_service). The server as a whole ("") and its
 * two TF Serving services are SERVING when every configured model has an AVAILABLE version
 * (core.isReady()), else NOT_SERVING; other names are unknown (Check: NOT_FOUND, Watch:
 * SERVICE_UNKNOWN). TF Serving's built-in gRPC service says SERVING as soon as the port is up;
 * readiness is more useful to load balancers. Watch polls readiness while someone watches.
 */
import { create } from '@bufbuild/protobuf';
import { type ServerWritableStream, type handleServerStreamingCall, type handleUnaryCall, status as GrpcStatus } from '@grpc/grpc-js';
import {
  type HealthCheckRequest,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../../../gen/grpc/health/v1/health_pb.js';
import { MalformedRequest, type Received } from './codec.js';
import { toGrpcStatus } from './status.js';

export const HEALTH_CHECKED_SERVICES: readonly string[] = ['', 'tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService'];

export interface HealthOptions {
  readonly isReady: () => boolean;
  /** How often Watch re-checks readiness (default 1000 ms). */
  readonly pollMs?: number;
}

export type HealthHandlers = {
  readonly check: handleUnaryCall<Received<HealthCheckRequest>, HealthCheckResponse>;
  readonly watch: handleServerStreamingCall<Received<HealthCheckRequest>, HealthCheckResponse>;
};

type Watch = ServerWritableStream<Received<HealthCheckRequest>, HealthCheckResponse>;

interface Watcher {
  readonly call: Watch;
  readonly service: string;
  last: ServingStatus;
}

export class HealthService {
  readonly handlers: HealthHandlers;
  private readonly watchers = new Set<Watcher>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: HealthOptions) {
    this.handlers = {
      check: (call, callback) => {
        const request = call.request;
        if (request instanceof MalformedRequest) return callback(toGrpcStatus(request.error));
        const status = this.statusOf(request.service);
        if (status === ServingStatus.SERVICE_UNKNOWN) return callback({ code: GrpcStatus.NOT_FOUND, details: 'unknown service' });
        callback(null, response(status));
      },
      watch: (call) => this.watch(call),
    };
  }

  statusOf(service: string): ServingStatus {
    if (!HEALTH_CHECKED_SERVICES.includes(service)) return ServingStatus.SERVICE_UNKNOWN;
    return !this.stopped && this.options.isReady() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  /** Server shutdown: watchers hear NOT_SERVING and their streams end, so shutdown is not held up. */
  shutdown(): void {
    this.stopped = true;
    this.stopPolling();
    for (const watcher of this.watchers) {
      if (watcher.last !== ServingStatus.SERVICE_UNKNOWN) watcher.call.write(response(ServingStatus.NOT_SERVING));
      watcher.call.end();
    }
    this.watchers.clear();
  }

  private watch(call: Watch): void {
    const request = call.request;
    if (request instanceof MalformedRequest) {
      call.emit('error', toGrpcStatus(request.error));
      return;
    }
    const watcher: Watcher = { call, service: request.service, last: this.statusOf(request.service) };
    call.write(response(watcher.last));
    if (this.stopped) {
      call.end();
      return;
    }
    this.watchers.add(watcher);
    call.on('cancelled', () => this.forget(watcher));
    call.on('close', () => this.forget(watcher));
    this.timer ??= setInterval(() => this.poll(), this.options.pollMs ?? 1000).unref();
  }

  private poll(): void {
    for (const watcher of this.watchers) {
      const now = this.statusOf(watcher.service);
      if (now === watcher.last) continue;
      watcher.last = now;
      watcher.call.write(response(now));
    }
  }

  private forget(watcher: Watcher): void {
    this.watchers.delete(watcher);
    if (this.watchers.size === 0) this.stopPolling();
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function response(status: ServingStatus): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status });
}
