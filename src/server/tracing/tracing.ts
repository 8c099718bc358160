/**
 * The spans the serving stack makes, on the OpenTelemetry API (start-tracing.ts sets up the SDK;
 * until it does, every function here is a cheap no-op).
 *
 * Spans: `<transport> <API>` (SERVER kind, one per request, W3C parent from the caller),
 * `batching queue wait`, `inference` (the engine run), and `shadow <model>/versions/<v>` for a
 * shadow copy (a child of its request's span, run after the caller's answer).
 */
import { type Context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type TextMapGetter, type Tracer, context, propagation, trace } from '@opentelemetry/api';
import { Code } from '../errors.js';
import { managedContext } from './sync-context-manager.js';

const TRACER_NAME = 'tfmodel-server';
let enabled = false;
/** The root sampling ratio, decided before any OpenTelemetry call for requests without a parent. */
let rootSamplingRate = 1;

/** True once tracing is started: the one check the hot paths make. */
export const tracingEnabled = (): boolean => enabled;

/** The SDK's tracer, looked up once per start (the API's lookup goes through two providers). */
let tracer: Tracer | undefined;

/** Set by start-tracing.ts. */
export function setTracingEnabled(on: boolean, rootRate = 1): void {
  enabled = on;
  rootSamplingRate = rootRate;
  tracer = undefined;
}

const theTracer = (): Tracer => (tracer ??= trace.getTracer(TRACER_NAME));

/** A request's span and the context to run its work in. */
export interface TracedRequest {
  readonly span: Span;
  readonly context: Context;
}

/**
 * Starts a request's SERVER span with the caller's W3C context (`carrier` read by `getter`);
 * undefined when tracing is off or the request is not sampled (nothing more to do then).
 */
export function startRequestSpan<C>(name: string, carrier: C, getter: TextMapGetter<C>, attributes: () => Record<string, string>): TracedRequest | undefined {
  if (!enabled) return undefined;
  // A request without a caller's context is a root: the ratio decides at the cost of one random
  // number (the SDK's sampler would agree: it draws the trace id at random too).
  const root = getter.get(carrier, 'traceparent') === undefined;
  if (root && !(Math.random() < rootSamplingRate)) return undefined;
  // Without a traceparent, W3C propagation has nothing to extract (tracestate alone is ignored).
  const parent = root ? context.active() : propagation.extract(context.active(), carrier, getter);
  const span = theTracer().startSpan(name, { kind: SpanKind.SERVER, attributes: attributes() }, parent);
  if (!span.isRecording()) return undefined;
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a request span with the call's outcome and what it learned (model, version, signature). */
export function endRequestSpan(traced: TracedRequest, code: Code, attributes: Record<string, string | undefined>): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) traced.span.setAttribute(key, value);
  }
  traced.span.setAttribute('rpc.grpc.status_code', code);
  if (code !== Code.OK) traced.span.setStatus({ code: SpanStatusCode.ERROR, message: Code[code] });
  traced.span.end();
}

/**
 * The active context when it holds a recording span (a traced request), else undefined: with the
 * synchronous context manager one read and one comparison for an untraced request, no global
 * lookups (the API's context.active() and trace.getActiveSpan() make two per call).
 */
function tracedContext(): Context | undefined {
  const active = managedContext() ?? context.active();
  if (active === ROOT_CONTEXT) return undefined;
  return trace.getSpan(active)?.isRecording() ? active : undefined;
}

/** Runs `work` in a child span of the active request span (just runs it when there is none). */
export function withChildSpan<T>(name: string, attributes: () => Record<string, string | number>, work: () => Promise<T>, kind = SpanKind.INTERNAL): Promise<T> {
  const parent = enabled ? tracedContext() : undefined;
  if (parent === undefined) return work();
  return inChildSpan(parent, theTracer().startSpan(name, { kind, attributes: attributes() }, parent), work);
}

async function inChildSpan<T>(parent: Context, span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** The active request context, kept by the batching queue for the wait span; undefined when untraced. */
export function captureTraceContext(): Context | undefined {
  return enabled ? tracedContext() : undefined;
}

/** A finished wait (batching queue), recorded with its real start and end times. */
export function recordWaitSpan(name: string, parent: Context, startMs: number, endMs: number, attributes: Record<string, string | number>): void {
  theTracer().startSpan(name, { startTime: startMs, attributes }, parent).end(endMs);
}

/**
 * A shadow copy's span (routing/shadow-runner.ts): INTERNAL, a child of the sampled request's span
 * (`parent`, captured on the request's path), started when the copy runs, after the caller has its
 * answer, so it ends after its parent and never adds to the caller's time.
 */
export function startShadowSpan(parent: Context, name: string, attributes: Record<string, string | number>): Span {
  return theTracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
}

/** Ends a shadow span: ERROR when the shadow version failed; the comparison as attributes. */
export function endShadowSpan(span: Span, failure: string | undefined, attributes: Record<string, string | number>): void {
  span.setAttributes(attributes);
  if (failure !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
  span.end();
}

/** A copy the full shadow queue dropped: an event on the request's span. */
export function recordShadowDropped(parent: Context, attributes: Record<string, string>): void {
  trace.getSpan(parent)?.addEvent('shadow dropped', attributes);
}
