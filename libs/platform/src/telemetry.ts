import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { isTracingSuppressed, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { NodeSDK } from '@opentelemetry/sdk-node';

export interface TelemetryOptions {
  serviceName: string;
  /**
   * OTLP/HTTP base endpoint (e.g. http://otel-collector:4318); spans go to `<endpoint>/v1/traces` as
   * protobuf, the OTLP default every collector accepts. Unset: nothing is exported.
   */
  otlpEndpoint?: string | undefined;
}

export interface Telemetry {
  /** True when spans are exported. */
  readonly exporting: boolean;
  /** Flushes pending spans and stops the SDK; the last step of shutdown. */
  shutdown(): Promise<void>;
}

/**
 * A W3C trace context as stored with a record (e.g. an interaction), so that work done later on it
 * (an agent's reply, a parked send) joins the trace of the message that created it.
 */
export interface StoredTraceContext {
  traceparent: string;
  tracestate?: string | undefined;
}

let propagationRegistered = false;
let started: Telemetry | undefined;

/**
 * Registers W3C trace-context propagation and an AsyncLocalStorage context manager, so that a trace
 * passes from incoming gRPC metadata to outgoing calls and Kafka headers even when nothing is
 * exported. Idempotent.
 */
export function registerTracePropagation(): void {
  if (propagationRegistered) return;
  const manager = new AsyncLocalStorageContextManager();
  manager.enable();
  context.setGlobalContextManager(manager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  propagationRegistered = true;
}

/**
 * Starts OpenTelemetry first thing in a service's main. With an OTLP endpoint it runs the Node SDK
 * exporting traces over OTLP/HTTP (protobuf); without one it only registers propagation, so the process makes
 * no connection anywhere. Idempotent per process (a second call returns the first one's handle).
 *
 * What makes the spans of a trace (see deploy/README.md, "Traces"):
 * - gRPC server and client calls: nice-grpc-opentelemetry (grpc-server.ts, grpc-client.ts), W3C
 *   context in the call metadata;
 * - Kafka: @mailroute/messaging (a PRODUCER span per published message, its context in the message
 *   headers; a CONSUMER span per delivery, parented by those headers);
 * - MongoDB commands: @opentelemetry/instrumentation-mongodb (only under an existing span);
 * - outgoing HTTP of the `http`/`https` modules (MSAL's Entra ID token requests):
 *   @opentelemetry/instrumentation-http (only under an existing span; incoming HTTP — the metrics
 *   endpoint — is not traced, nor are this exporter's own requests);
 * - `fetch` (the Microsoft Graph client's requests): a CLIENT span per request from Node's undici
 *   diagnostics channels (`instrumentFetch`), with `traceparent` added to the request.
 *
 * The instrumentations patch `mongodb` and `http`/`https` as they are loaded: a service loads its
 * adapters after this call (runService starts telemetry, then imports the wiring lazily).
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (started) return started;
  if (!options.otlpEndpoint) {
    registerTracePropagation();
    started = { exporting: false, shutdown: async () => undefined };
    return started;
  }
  const tracesUrl = new URL(`${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`);
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    traceExporter: new OTLPTraceExporter({ url: tracesUrl.href }),
    textMapPropagator: new W3CTraceContextPropagator(),
    contextManager: new AsyncLocalStorageContextManager(),
    // Traces only: metrics are served to Prometheus (metrics.ts), and no logs go through OTel (the
    // SDK would otherwise push both over OTLP by default).
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // The services serve no HTTP but Prometheus' /metrics: scrapes are not traces.
        disableIncomingRequestInstrumentation: true,
        // Background requests (a token refresh outside any call) do not start traces of their own.
        requireParentforOutgoingSpans: true,
        // The exporter's own requests (it also suppresses tracing; this is the second guard).
        ignoreOutgoingRequestHook: (request) => isExporterRequest(request, tracesUrl),
      }),
      new MongoDBInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  // `http`/`https` are core modules loaded before this call (the logger, gRPC, the metrics
  // endpoint); the instrumentation patches them on their next `require`, made here.
  const load = createRequire(path.join(process.cwd(), 'telemetry.js'));
  load('node:http');
  load('node:https');
  const stopFetch = instrumentFetch();
  propagationRegistered = true;
  started = {
    exporting: true,
    shutdown: async () => {
      stopFetch();
      await sdk.shutdown();
      started = undefined;
    },
  };
  return started;
}

function isExporterRequest(
  request: { host?: string | null; hostname?: string | null; port?: string | number | null; path?: string | null },
  tracesUrl: URL,
): boolean {
  const host = (request.hostname ?? request.host ?? '').replace(/^\[|\]$/g, '');
  const port = String(request.port ?? '');
  const exporterPort = tracesUrl.port || (tracesUrl.protocol === 'https:' ? '443' : '80');
  return (
    host === tracesUrl.hostname.replace(/^\[|\]$/g, '') &&
    (port === '' || port === exporterPort) &&
    (request.path ?? '').startsWith(tracesUrl.pathname)
  );
}

interface UndiciRequest {
  origin?: string | URL;
  method?: string;
  path?: string;
  addHeader?(name: string, value: string): unknown;
}

/**
 * CLIENT spans for `fetch` (Node's undici), which the `http` instrumentation does not see: one
 * span per request, started only under an existing span (a trace is never started by a background
 * request), with `traceparent` added to the request. The URL is recorded without its query (Graph
 * delta and skip tokens). Returns the unsubscribe function.
 */
export function instrumentFetch(): () => void {
  const tracer = trace.getTracer('@mailroute/platform/fetch');
  const spans = new WeakMap<object, Span>();
  const onCreate = (message: unknown): void => {
    const { request } = message as { request: UndiciRequest };
    const active = context.active();
    if (isTracingSuppressed(active) || !trace.getSpan(active)) return;
    let url: URL;
    try {
      url = new URL(request.path ?? '/', request.origin);
    } catch {
      return;
    }
    const method = (request.method ?? 'GET').toUpperCase();
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'url.full': `${url.origin}${url.pathname}`,
          'server.address': url.hostname,
          'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        },
      },
      active,
    );
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(active, span), headers);
    for (const [name, value] of Object.entries(headers)) request.addHeader?.(name, value);
    spans.set(request, span);
  };
  const onHeaders = (message: unknown): void => {
    const { request, response } = message as { request: object; response: { statusCode: number } };
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', response.statusCode);
    if (response.statusCode >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.statusCode}` });
  };
  const onDone = (message: unknown): void => {
    const { request } = message as { request: object };
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    span.end();
  };
  const onError = (message: unknown): void => {
    const { request, error } = message as { request: object; error: Error };
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    span.end();
  };
  const channels: [string, (message: unknown) => void][] = [
    ['undici:request:create', onCreate],
    ['undici:request:headers', onHeaders],
    ['undici:request:trailers', onDone],
    ['undici:request:error', onError],
  ];
  for (const [name, listener] of channels) subscribe(name, listener);
  return () => {
    for (const [name, listener] of channels) unsubscribe(name, listener);
  };
}

/** The active span's W3C trace context, to store with a record; undefined outside a sampled span. */
export function currentTraceContext(active: Context = context.active()): StoredTraceContext | undefined {
  const spanContext = trace.getSpanContext(active);
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier);
  if (!carrier['traceparent']) return undefined;
  return carrier['tracestate']
    ? { traceparent: carrier['traceparent'], tracestate: carrier['tracestate'] }
    : { traceparent: carrier['traceparent'] };
}

/** A context whose parent is a stored trace context (ROOT_CONTEXT when there is none or it is malformed). */
export function contextFromStored(stored: StoredTraceContext | undefined): Context {
  if (!stored?.traceparent) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent: stored.traceparent };
  if (stored.tracestate) carrier['tracestate'] = stored.tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** The span context of a stored trace context, for a span link; undefined when there is none. */
export function spanContextFromStored(stored: StoredTraceContext | undefined): SpanContext | undefined {
  const spanContext = trace.getSpanContext(contextFromStored(stored));
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * Runs `work` and then ends every span in `spans` (which `work` may still be filling); when `work`
 * fails, each span records the error first. For work that opens one span per item it handles.
 */
export async function endingSpans<T>(spans: readonly Span[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    for (const span of spans) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}
