/**
 * Starts OpenTelemetry tracing (off by default): a tracer provider exporting OTLP (HTTP/protobuf
 * or gRPC) through a batch span processor, parent-based sampling (roots by the ratio, decided in
 * tracing.ts), W3C traceparent and tracestate propagation, and a context manager without async hooks (sync-context-manager.ts) so
 * that spans started deep in a request (inference, batching queue wait) find their request span.
 * Loaded only when tracing is on.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { SynchronousContextManager } from './sync-context-manager.js';
import { setTracingEnabled } from './tracing.js';

export interface TracingOptions {
  /** OTLP endpoint: http(s)://host:4318 for http/protobuf (…/v1/traces is added), host:port for grpc. */
  readonly endpoint: string;
  readonly protocol: 'http/protobuf' | 'grpc';
  /** Root sampling ratio (a caller's sampled traceparent is always followed). */
  readonly samplingRate: number;
  readonly serviceName: string;
  readonly serviceVersion?: string;
  /** Batch span processor delay (default 1000 ms; tests use less). */
  readonly exportDelayMs?: number;
  /** Replaces the OTLP exporter (unit tests). */
  readonly exporter?: SpanExporter;
}

export interface Tracing {
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

export function startTracing(options: TracingOptions): Tracing {
  const exporter = options.exporter ?? otlpExporter(options);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
    }),
    // The root ratio is applied by startRequestSpan (tracing.ts) before any OpenTelemetry call; a
    // ratio sampler here as well would sample rate^2 of the roots.
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: options.exportDelayMs ?? 1000, maxQueueSize: 8192 })],
  });
  const contextManager = new SynchronousContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  setTracingEnabled(true, options.samplingRate);
  return {
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      setTracingEnabled(false);
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

function otlpExporter(options: TracingOptions): SpanExporter {
  if (options.protocol === 'grpc') {
    const url = /^[a-z]+:\/\//.test(options.endpoint) ? options.endpoint.replace(/^grpc:\/\//, 'http://') : `http://${options.endpoint}`;
    return new OtlpGrpcExporter({ url });
  }
  const base = options.endpoint.replace(/\/+$/, '');
  return new OtlpProtoExporter({ url: base.endsWith('/v1/traces') ? base : `${base}/v1/traces` });
}

