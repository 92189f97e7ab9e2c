import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { KafkaEventBus } from '../index';

describe('KafkaEventBus with a handler that takes longer than the session timeout', () => {
  it('keeps the member in its group while the handler runs (heartbeats go on), so the message is handled once', async () => {
    const { kafkaBrokers } = testInfra();
    const topic = randomId('slow');
    // The broker's smallest session: without heartbeats during the handler, the member is dropped after 6 s.
    const bus = new KafkaEventBus({ brokers: kafkaBrokers, clientId: 'slow-handler', sessionTimeoutMs: 6_000 });
    const calls: string[] = [];
    try {
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.subscribe({
        groupId: randomId('g'),
        topics: [topic],
        handler: async (message) => {
          calls.push(message.value.toString());
          // A dependency that is away for longer than the session (a store outage, retried in place).
          if (message.value.toString() === 'slow') await new Promise((resolve) => setTimeout(resolve, 15_000));
        },
      });
      await bus.publish(topic, [
        { key: 'k', value: Buffer.from('slow') },
        { key: 'k', value: Buffer.from('next') },
      ]);
      await waitFor(() => calls.includes('next'), {
        timeoutMs: 90_000,
        intervalMs: 200,
        description: 'the message after the slow one',
      });
      expect(calls).toEqual(['slow', 'next']);
    } finally {
      await bus.close();
    }
  }, 120_000);
});
