import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { contextFromStored, currentTraceContext, instrumentFetch, spanContextFromStored } from './telemetry';

// instrumentFetch and the stored trace context, with a real SDK (in-memory exporter) and real
// fetch requests to a local HTTP server.
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('test');
const received: { url: string | undefined; traceparent: string | undefined }[] = [];
const server = createServer((request: IncomingMessage, response) => {
  received.push({ url: request.url, traceparent: request.headers['traceparent'] as string | undefined });
  response.writeHead(request.url?.startsWith('/missing') ? 404 : 200, { 'content-type': 'text/plain' }).end('ok');
});
let base = '';
let stopFetch: () => void = () => undefined;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  stopFetch = instrumentFetch();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  stopFetch();
  await new Promise((resolve) => server.close(resolve));
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});
beforeEach(() => {
  exporter.reset();
  received.length = 0;
});

describe('instrumentFetch', () => {
  it('makes a CLIENT span per fetch under the active span, sends its traceparent and records the URL without its query', async () => {
    const parent = await tracer.startActiveSpan('caller', async (span) => {
      await (await fetch(`${base}/v1.0/users/a%40b.example/messages/delta?$deltatoken=secret-token`)).text();
      await (await fetch(`${base}/missing`, { method: 'POST', body: '{}' })).text();
      span.end();
      return span.spanContext();
    });
    const clients = exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CLIENT);
    expect(clients.map((span) => span.name)).toEqual(['GET', 'POST']);
    expect(
      clients.every((span) => span.parentSpanContext?.spanId === parent.spanId && span.spanContext().traceId === parent.traceId),
    ).toBe(true);
    expect(clients[0]?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.full': `${base}/v1.0/users/a%40b.example/messages/delta`,
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
    });
    expect(JSON.stringify(clients.map((span) => span.attributes))).not.toContain('secret-token');
    expect(clients[1]?.attributes['http.response.status_code']).toBe(404);
    expect(clients[1]?.status.code).toBe(SpanStatusCode.ERROR);
    // The server got each request's own span as its parent.
    expect(received.map((r) => r.traceparent)).toEqual(
      clients.map((span) => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`),
    );
  });

  it('makes no span and sends no traceparent for a fetch outside any span', async () => {
    await (await fetch(`${base}/background`)).text();
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(received).toEqual([{ url: '/background', traceparent: undefined }]);
  });

  it('ends the span with the error when the request fails', async () => {
    // A port nothing listens on (bound, then released): the connection is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await tracer.startActiveSpan('caller', async (span) => {
      await expect(fetch(`http://127.0.0.1:${port}/unreachable`)).rejects.toThrow();
      span.end();
    });
    const client = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.CLIENT);
    expect(client?.status.code).toBe(SpanStatusCode.ERROR);
    expect(client?.events.map((event) => event.name)).toContain('exception');
  });
});

describe('stored trace context', () => {
  it('round-trips the active span: a span started from the stored context is its child, in its trace', () => {
    const span = tracer.startSpan('intake');
    const stored = context.with(trace.setSpan(context.active(), span), () => currentTraceContext());
    expect(stored?.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    const child = tracer.startSpan('reply', {}, contextFromStored(stored));
    expect(child.spanContext().traceId).toBe(span.spanContext().traceId);
    child.end();
    span.end();
    expect(exporter.getFinishedSpans().find((s) => s.name === 'reply')?.parentSpanContext?.spanId).toBe(
      span.spanContext().spanId,
    );
    expect(spanContextFromStored(stored)?.spanId).toBe(span.spanContext().spanId);
  });

  it('is undefined outside a span, and a missing or malformed one gives a root context', () => {
    expect(currentTraceContext()).toBeUndefined();
    expect(trace.getSpanContext(contextFromStored(undefined))).toBeUndefined();
    expect(trace.getSpanContext(contextFromStored({ traceparent: 'not-a-traceparent' }))).toBeUndefined();
    expect(spanContextFromStored({ traceparent: '00-00000000000000000000000000000000-0000000000000000-01' })).toBeUndefined();
  });
});
