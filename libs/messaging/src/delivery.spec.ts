import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { waitFor } from '@mailroute/testing';
import { InProcessBroker, InProcessEventBus } from './index';

// Spans of publish and delivery with a real SDK (in-memory exporter), through the in-process bus
// (the Kafka adapter uses the same publishTraced/deliver; its contract suite checks the headers).
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const manager = new AsyncLocalStorageContextManager().enable();

beforeAll(() => {
  context.setGlobalContextManager(manager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});
beforeEach(() => exporter.reset());

async function publishAndConsume(publish: (bus: InProcessEventBus) => Promise<void>, count: number) {
  const bus = new InProcessEventBus({ broker: new InProcessBroker() });
  const seen: { traceId: string | undefined; spanId: string | undefined }[] = [];
  await bus.subscribe({
    groupId: 'g',
    topics: ['t'],
    handler: async () => {
      const active = trace.getSpanContext(context.active());
      seen.push({ traceId: active?.traceId, spanId: active?.spanId });
    },
  });
  await publish(bus);
  await waitFor(() => seen.length === count, { timeoutMs: 5_000 });
  await bus.close();
  return seen;
}

describe('publishTraced and deliver', () => {
  it('publishes each message in a PRODUCER span under the active span; the CONSUMER span is its child and active in the handler', async () => {
    const tracer = trace.getTracer('test');
    let parent: { traceId: string; spanId: string } | undefined;
    const seen = await publishAndConsume(
      (bus) =>
        tracer.startActiveSpan('caller', async (span) => {
          parent = span.spanContext();
          await bus.publish('t', [
            { key: 'k', value: Buffer.from('1') },
            { key: 'k', value: Buffer.from('2') },
          ]);
          span.end();
        }),
      2,
    );
    const spans = exporter.getFinishedSpans();
    const producers = spans.filter((span) => span.kind === SpanKind.PRODUCER);
    const consumers = spans.filter((span) => span.kind === SpanKind.CONSUMER);
    expect(producers.map((span) => span.name)).toEqual(['t publish', 't publish']);
    expect(
      producers.every(
        (span) => span.parentSpanContext?.spanId === parent?.spanId && span.spanContext().traceId === parent?.traceId,
      ),
    ).toBe(true);
    expect(new Set(producers.map((span) => span.spanContext().spanId)).size).toBe(2);
    expect(consumers.map((span) => span.name)).toEqual(['t process', 't process']);
    expect(consumers.map((span) => span.parentSpanContext?.spanId).sort()).toEqual(
      producers.map((span) => span.spanContext().spanId).sort(),
    );
    expect(seen.map((s) => s.spanId).sort()).toEqual(consumers.map((span) => span.spanContext().spanId).sort());
  });

  it('parents a message that carries its own trace context in its headers by that context (one trace per message)', async () => {
    const tracer = trace.getTracer('test');
    const own = [tracer.startSpan('email 1', { root: true }), tracer.startSpan('email 2', { root: true })];
    const headers = own.map((span) => {
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(context.active(), span), carrier);
      return carrier;
    });
    await publishAndConsume(
      (bus) =>
        tracer.startActiveSpan('page', async (page) => {
          await bus.publish('t', [
            { key: 'k', value: Buffer.from('1'), headers: headers[0] ?? {} },
            { key: 'k', value: Buffer.from('2'), headers: headers[1] ?? {} },
          ]);
          page.end();
        }),
      2,
    );
    own.forEach((span) => span.end());
    const producers = exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.PRODUCER);
    expect(producers.map((span) => span.parentSpanContext?.spanId)).toEqual(own.map((span) => span.spanContext().spanId));
    expect(producers.map((span) => span.spanContext().traceId)).toEqual(own.map((span) => span.spanContext().traceId));
  });

  it('starts no span for a publish outside any span (background work starts no trace)', async () => {
    const seen = await publishAndConsume((bus) => bus.publish('t', { key: 'k', value: Buffer.from('1') }), 1);
    expect(exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.PRODUCER)).toEqual([]);
    // The consumer span is still made (a delivery is work to see), as a root.
    const consumers = exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CONSUMER);
    expect(consumers).toHaveLength(1);
    expect(consumers[0]?.parentSpanContext).toBeUndefined();
    expect(seen[0]?.spanId).toBe(consumers[0]?.spanContext().spanId);
  });
});
