/**
 * tensorflow.ProfilerService on the gRPC port (--enable_profiler, on by default as in TF Serving),
 * for TensorBoard's profile plugin and tf.profiler.experimental.client.trace:
 *
 * - Profile records what this server can trace (trace-recorder.ts) for duration_ms (or until
 *   Terminate names its session, or the caller cancels) and answers the XSpace: inline when the
 *   request sets emit_xspace, and written where TensorFlow's server writes it,
 *   <repository_root>/<session_id>/<host_name>.xplane.pb, when the client asked for a repository.
 *   empty_trace says whether anything happened (the client retries an empty trace).
 * - Monitor is UNIMPLEMENTED: it reports device utilisation, which has no meaning here.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { type handleUnaryCall, status as GrpcStatus } from '@grpc/grpc-js';
import { ProfilerService, type ProfileRequest, ProfileResponseSchema, type ProfileResponse, TerminateResponseSchema, type TerminateRequest, type TerminateResponse, type MonitorRequest, type MonitorResponse } from '../../gen/tsl/profiler/protobuf/profiler_service_pb.js';
import { XSpaceSchema } from '../../gen/tsl/profiler/protobuf/xplane_pb.js';
import type { Logger } from '../logging.js';
import { MalformedRequest, type Received } from '../transports/grpc/codec.js';
import { serviceDefinition } from '../transports/grpc/service-definitions.js';
import type { TraceRecorder } from './trace-recorder.js';
import { buildXSpace } from './xspace.js';

export const profilerServiceDefinition = serviceDefinition(ProfilerService);

/** TensorFlow's client asks for at most this many events (kMaxEvents). */
const DEFAULT_MAX_EVENTS = 1_000_000;
/** A trace longer than this is cut (TensorBoard's UI offers up to 5 minutes... keep a ceiling). */
const MAX_DURATION_MS = 10 * 60 * 1000;

export interface ProfilerHandlers {
  profile: handleUnaryCall<Received<ProfileRequest>, ProfileResponse>;
  terminate: handleUnaryCall<Received<TerminateRequest>, TerminateResponse>;
  monitor: handleUnaryCall<Received<MonitorRequest>, MonitorResponse>;
}

export function profilerServiceHandlers(recorder: TraceRecorder, log?: Logger): ProfilerHandlers {
  const stopRequested = new Set<string>();
  return {
    profile(call, callback) {
      const request = call.request;
      if (request instanceof MalformedRequest) {
        callback({ code: GrpcStatus.INVALID_ARGUMENT, details: request.error.message });
        return;
      }
      const durationMs = Math.min(Number(request.durationMs), MAX_DURATION_MS);
      const session = recorder.open(request.maxEvents > 0n ? Number(request.maxEvents) : DEFAULT_MAX_EVENTS);
      log?.info('profile_started', { session_id: request.sessionId, duration_ms: durationMs });
      const finish = (): void => {
        clearInterval(poll);
        recorder.close(session);
      };
      const started = Date.now();
      const poll = setInterval(() => {
        if (call.cancelled) {
          finish();
          callback({ code: GrpcStatus.CANCELLED, details: 'Cancelled' });
          return;
        }
        const stop = request.sessionId !== '' && stopRequested.delete(request.sessionId);
        if (!stop && Date.now() - started < durationMs) return;
        finish();
        const warnings = session.dropped > 0 ? [`${session.dropped} events dropped past max_events=${session.spans.length}`] : [];
        const host = request.hostName || hostname();
        const xspace = buildXSpace(session.spans, host, warnings);
        const response = create(ProfileResponseSchema, { emptyTrace: session.spans.length === 0 });
        if (request.emitXspace) response.xspace = xspace;
        saveXSpace(request, host, toBinary(XSpaceSchema, xspace)).then(
          (path) => {
            log?.info('profile_collected', { session_id: request.sessionId, events: session.spans.length, ...(path ? { path } : {}) });
            callback(null, response);
          },
          (error: unknown) => {
            log?.error('profile_save_failed', { session_id: request.sessionId, error: String(error) });
            callback({ code: GrpcStatus.INTERNAL, details: `Failed to save the profile: ${(error as Error).message}` });
          },
        );
      }, Math.min(10, Math.max(1, durationMs)));
    },
    terminate(call, callback) {
      const request = call.request;
      if (!(request instanceof MalformedRequest) && request.sessionId) stopRequested.add(request.sessionId);
      callback(null, create(TerminateResponseSchema, {}));
    },
    monitor(_call, callback) {
      callback({ code: GrpcStatus.UNIMPLEMENTED, details: 'Monitor is not supported: tfmodel-server has no device utilization to report' });
    },
  };
}

/**
 * TensorFlow's SaveXSpace: <repository_root>/<session_id>/<host>.xplane.pb. Only plain names for
 * the session and host (no path separators), and an absolute repository root; none given (a
 * client reading emit_xspace): nothing written.
 */
async function saveXSpace(request: ProfileRequest, host: string, bytes: Uint8Array): Promise<string | undefined> {
  if (!request.repositoryRoot || request.emitXspace) return undefined;
  const plain = /^[A-Za-z0-9_.:-]+$/;
  if (!isAbsolute(request.repositoryRoot) || !plain.test(request.sessionId) || request.sessionId.startsWith('.') || !plain.test(host)) {
    throw new Error(`refusing to write outside ${request.repositoryRoot}: session "${request.sessionId}", host "${host}"`);
  }
  const dir = join(request.repositoryRoot, request.sessionId);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${host.replace(/:/g, '_')}.xplane.pb`);
  await writeFile(path, bytes);
  return path;
}
