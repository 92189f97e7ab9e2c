import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { KafkaEventBus } from '../index';

/**
 * A new consumer group that starts at the latest offset (fromBeginning: false) fixes that offset in
 * its first fetch, after it has joined. Until then its partitions are not reported: a message
 * published once assignments() shows them is consumed, never skipped as older than the start.
 */
describe('KafkaEventBus, a new group starting at the latest offset (real Apache Kafka broker)', () => {
  it('consumes a message published as soon as the subscription reports its partitions', async () => {
    const bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: 'latest-start' });
    const topic = randomId('latest-start');
    try {
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.publish(topic, { key: 'k', value: Buffer.from('before the group') });
      const received: string[] = [];
      const subscription = await bus.subscribe({
        groupId: randomId('latest-start-group'),
        topics: [topic],
        fromBeginning: false,
        handler: async (message) => {
          received.push(message.value.toString());
        },
      });
      await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 60_000, intervalMs: 1 });
      await bus.publish(topic, { key: 'k', value: Buffer.from('once assigned') });
      await waitFor(() => received.length > 0, { timeoutMs: 60_000, description: 'the message published once assigned' });
      expect(received).toEqual(['once assigned']);
    } finally {
      await bus.close();
    }
  });
});
