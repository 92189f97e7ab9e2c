import { context, trace, TraceFlags } from '@opentelemetry/api';
import {
  deadLetterHeaders,
  deadLetterTopic,
  type DeliveredMessage,
  type EventBus,
  type MessageHandler,
  type Subscription,
} from '@mailroute/messaging';
import { registerTracePropagation, UnavailableError, ValidationError } from '@mailroute/platform';
import { deferred, randomId, waitFor } from './wait-for';

export interface EventBusContractOptions {
  /** A new bus (think: a new replica) connected to the same broker as every other bus it returns. */
  createBus: () => Promise<EventBus> | EventBus;
  /** Bounds for waits; Kafka group joins take seconds. */
  timeoutMs?: number;
}

const text = (message: DeliveredMessage): string => message.value.toString('utf8');
const encode = (value: string): Uint8Array => Buffer.from(value, 'utf8');

/**
 * The behaviour every EventBus adapter must have. Each test uses its own topics and groups and
 * closes what it opened.
 */
export function describeEventBusContract(name: string, options: EventBusContractOptions): void {
  const timeoutMs = options.timeoutMs ?? 30_000;

  describe(`EventBus contract: ${name}`, () => {
    const opened: EventBus[] = [];
    const newBus = async (): Promise<EventBus> => {
      const bus = await options.createBus();
      opened.push(bus);
      return bus;
    };
    const collect = (into: DeliveredMessage[], extra?: MessageHandler): MessageHandler => {
      return async (message, signal) => {
        await extra?.(message, signal);
        into.push(message);
      };
    };

    beforeAll(() => registerTracePropagation());

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((bus) => bus.close()));
    });

    it('delivers messages with one key in the order they were published', async () => {
      const bus = await newBus();
      const topic = randomId('contract-order');
      await bus.ensureTopics([{ topic, partitions: 3 }]);
      const received: DeliveredMessage[] = [];
      await bus.subscribe({ groupId: randomId('g'), topics: [topic], handler: collect(received) });
      const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
      for (let i = 0; i < 10; i += 1) {
        await bus.publish(
          topic,
          keys.map((key) => ({ key, value: encode(`${key}:${i}`) })),
        );
      }
      await waitFor(() => received.length === 50, { timeoutMs, description: '50 messages' });
      for (const key of keys) {
        const sequence = received.filter((m) => m.key === key).map((m) => Number(text(m).split(':')[1]));
        expect(sequence).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      }
      // One key, one partition.
      for (const key of keys) expect(new Set(received.filter((m) => m.key === key).map((m) => m.partition)).size).toBe(1);
    });

    it('shares a topic between the consumers of one group, each message to exactly one of them', async () => {
      const [busA, busB] = [await newBus(), await newBus()];
      const topic = randomId('contract-group');
      const groupId = randomId('g');
      await busA.ensureTopics([{ topic, partitions: 4 }]);
      const receivedA: DeliveredMessage[] = [];
      const receivedB: DeliveredMessage[] = [];
      const subA = await busA.subscribe({ groupId, topics: [topic], handler: collect(receivedA) });
      const subB = await busB.subscribe({ groupId, topics: [topic], handler: collect(receivedB) });
      const owned = (sub: Subscription): number[] => sub.assignments().flatMap((a) => a.partitions);
      await waitFor(() => owned(subA).length > 0 && owned(subB).length > 0 && owned(subA).length + owned(subB).length === 4, {
        timeoutMs,
        description: 'both members own partitions',
      });
      expect(new Set([...owned(subA), ...owned(subB)])).toEqual(new Set([0, 1, 2, 3]));
      const messages = Array.from({ length: 40 }, (_, i) => ({ key: `customer-${i}`, value: encode(`m${i}`) }));
      await busA.publish(topic, messages);
      await waitFor(() => receivedA.length + receivedB.length >= 40, { timeoutMs, description: '40 messages' });
      const all = [...receivedA, ...receivedB].map(text).sort();
      expect(all).toEqual(messages.map((m) => Buffer.from(m.value).toString()).sort());
      expect(receivedA.length).toBeGreaterThan(0);
      expect(receivedB.length).toBeGreaterThan(0);
      for (const m of receivedA) expect(owned(subA)).toContain(m.partition);
    });

    it('redelivers a message whose handler failed, in order, until it succeeds', async () => {
      const bus = await newBus();
      const topic = randomId('contract-retry');
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      const received: DeliveredMessage[] = [];
      let failuresLeft = 2;
      await bus.subscribe({
        groupId: randomId('g'),
        topics: [topic],
        retryBackoffMs: 10,
        handler: collect(received, async (message) => {
          if (text(message) === 'second' && failuresLeft > 0) {
            failuresLeft -= 1;
            throw new UnavailableError('database down');
          }
        }),
      });
      await bus.publish(
        topic,
        ['first', 'second', 'third'].map((v) => ({ key: 'k', value: encode(v) })),
      );
      await waitFor(() => received.length === 3, { timeoutMs, description: '3 messages' });
      expect(received.map(text)).toEqual(['first', 'second', 'third']);
      expect(received.map((m) => m.attempt)).toEqual([1, 3, 1]);
    });

    it('dead-letters a message that keeps failing with a non-retryable error and moves on', async () => {
      const bus = await newBus();
      const topic = randomId('contract-dlq');
      await bus.ensureTopics([
        { topic, partitions: 1 },
        { topic: deadLetterTopic(topic), partitions: 1 },
      ]);
      const received: DeliveredMessage[] = [];
      const deadLettered: DeliveredMessage[] = [];
      await bus.subscribe({
        groupId: randomId('g'),
        topics: [topic],
        maxAttempts: 2,
        retryBackoffMs: 10,
        handler: collect(received, async (message) => {
          if (text(message) === 'poison') throw new ValidationError('body', 'not a valid event');
        }),
      });
      await bus.subscribe({ groupId: randomId('g'), topics: [deadLetterTopic(topic)], handler: collect(deadLettered) });
      await bus.publish(
        topic,
        ['ok-1', 'poison', 'ok-2'].map((v) => ({ key: 'k', value: encode(v), headers: { 'x-source': 'test' } })),
      );
      await waitFor(() => received.length === 2 && deadLettered.length === 1, { timeoutMs, description: 'dead letter' });
      expect(received.map(text)).toEqual(['ok-1', 'ok-2']);
      const [dead] = deadLettered;
      expect(text(dead as DeliveredMessage)).toBe('poison');
      expect(dead?.headers).toMatchObject({
        'x-source': 'test',
        [deadLetterHeaders.attempts]: '2',
        [deadLetterHeaders.originalTopic]: topic,
        [deadLetterHeaders.error]: expect.stringContaining('body: not a valid event'),
      });
    });

    it('redelivers to the next consumer a message whose consumer died before committing', async () => {
      const [busA, busB] = [await newBus(), await newBus()];
      const topic = randomId('contract-death');
      const groupId = randomId('g');
      await busA.ensureTopics([{ topic, partitions: 1 }]);
      const gotIt = deferred<DeliveredMessage>();
      const subA = await busA.subscribe({
        groupId,
        topics: [topic],
        handler: (message) => {
          gotIt.resolve(message);
          return new Promise(() => undefined); // never finishes: the process "dies" mid-message
        },
      });
      await busA.publish(topic, { key: 'k', value: encode('in-flight') });
      const first = await gotIt.promise;
      await subA.close({ graceMs: 0 });
      const received: DeliveredMessage[] = [];
      await busB.subscribe({ groupId, topics: [topic], handler: collect(received) });
      await waitFor(() => received.length === 1, { timeoutMs, description: 'redelivery' });
      expect(text(received[0] as DeliveredMessage)).toBe('in-flight');
      expect(received[0]?.offset).toBe(first.offset);
    });

    it('round-trips headers and carries the W3C trace context to the handler', async () => {
      const bus = await newBus();
      const topic = randomId('contract-headers');
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      const received: { message: DeliveredMessage; traceId: string | undefined }[] = [];
      await bus.subscribe({
        groupId: randomId('g'),
        topics: [topic],
        handler: async (message) => {
          received.push({ message, traceId: trace.getSpanContext(context.active())?.traceId });
        },
      });
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parent = trace.setSpanContext(context.active(), {
        traceId,
        spanId: '00f067aa0ba902b7',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      });
      await context.with(parent, () =>
        bus.publish(topic, {
          key: 'k',
          value: encode('hi'),
          headers: { 'x-mailroute-tenant': 'tenant-1', 'content-type': 'application/x-protobuf' },
        }),
      );
      await waitFor(() => received.length === 1, { timeoutMs, description: 'one message' });
      const [{ message, traceId: seen }] = received as [(typeof received)[number]];
      expect(message.headers).toMatchObject({ 'x-mailroute-tenant': 'tenant-1', 'content-type': 'application/x-protobuf' });
      expect(message.headers['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(seen).toBe(traceId);
    });

    it('closes cleanly: a closed subscription receives nothing more and a closed bus refuses to publish', async () => {
      const bus = await newBus();
      const topic = randomId('contract-close');
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      const received: DeliveredMessage[] = [];
      const subscription = await bus.subscribe({ groupId: randomId('g'), topics: [topic], handler: collect(received) });
      await bus.publish(topic, { key: 'k', value: encode('before') });
      await waitFor(() => received.length === 1, { timeoutMs, description: 'first message' });
      await subscription.close();
      expect(subscription.assignments()).toEqual([]);
      await bus.publish(topic, { key: 'k', value: encode('after') });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(received.map(text)).toEqual(['before']);
      await bus.close();
      await expect(bus.publish(topic, { key: 'k', value: encode('late') })).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION',
      });
      await expect(bus.close()).resolves.toBeUndefined();
    });
  });
}
