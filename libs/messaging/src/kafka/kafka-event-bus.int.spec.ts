import { Kafka, logLevel } from 'kafkajs';
import { describeEventBusContract, randomId, testInfra, waitFor } from '@mailroute/testing';
import { KafkaEventBus } from '../index';

describeEventBusContract('kafka (real Apache Kafka broker)', {
  createBus: () => new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: 'contract-test' }),
  timeoutMs: 60_000,
});

describe('KafkaEventBus', () => {
  it('rejects construction without brokers', () => {
    expect(() => new KafkaEventBus({ brokers: [], clientId: 'x' })).toThrow(/brokers/);
  });

  it('fails a publish with a retryable UNAVAILABLE error when no broker answers', async () => {
    const bus = new KafkaEventBus({
      brokers: ['127.0.0.1:1'],
      clientId: 'unreachable',
      kafka: { connectionTimeout: 200, retry: { retries: 0 } },
    });
    await expect(bus.publish('any-topic', { key: 'k', value: Buffer.from('x') })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    await bus.close();
  });
});

describe('KafkaEventBus ephemeral consumer groups', () => {
  it('deletes an ephemeral (per-replica) group when its subscription closes, and keeps a shared one', async () => {
    const brokers = testInfra().kafkaBrokers;
    const bus = new KafkaEventBus({ brokers, clientId: 'ephemeral-groups' });
    const topic = randomId('ephemeral');
    const ephemeral = randomId('replica-group');
    const shared = randomId('shared-group');
    const admin = new Kafka({ brokers, clientId: 'ephemeral-groups-check', logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      const subscriptions = await Promise.all(
        [ephemeral, shared].map((groupId) =>
          bus.subscribe({ groupId, topics: [topic], handler: async () => undefined, ephemeralGroup: groupId === ephemeral }),
        ),
      );
      await waitFor(
        async () => {
          const { groups } = await admin.listGroups();
          return [ephemeral, shared].every((id) => groups.some((group) => group.groupId === id));
        },
        { timeoutMs: 60_000, description: 'both groups known to the broker' },
      );
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
      const { groups } = await admin.listGroups();
      expect({
        ephemeral: groups.some((group) => group.groupId === ephemeral),
        shared: groups.some((group) => group.groupId === shared),
      }).toEqual({ ephemeral: false, shared: true });
    } finally {
      await admin.deleteGroups([shared]).catch(() => undefined);
      await admin.disconnect();
      await bus.close();
    }
  });
});
