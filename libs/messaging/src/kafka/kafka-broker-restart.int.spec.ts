import { randomId, startDedicatedKafka, waitFor, type DedicatedKafka } from '@mailroute/testing';
import { KafkaEventBus, type DeliveredMessage } from '../index';

/**
 * Recovery after the broker crashes: kafkajs backs off between retries (and before restarting a
 * crashed consumer) exponentially up to its `maxRetryTime`, 30 s by default — so a consumer could
 * stay away that long after the broker was back. The bus caps it (2 s by default).
 * A broker of this test's own, SIGKILLed and restarted on the same port and data.
 */
describe('KafkaEventBus when its broker is killed and comes back', () => {
  let kafka: DedicatedKafka;
  beforeAll(async () => {
    kafka = await startDedicatedKafka();
  }, 180_000);
  afterAll(async () => {
    await kafka?.dispose();
  }, 60_000);

  it('resumes consuming within 10 s of the broker answering again, after an outage long enough for kafkajs to back off', async () => {
    const topic = randomId('restart');
    const bus = new KafkaEventBus({ brokers: [kafka.brokers], clientId: 'restart-test' });
    const received: DeliveredMessage[] = [];
    try {
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.subscribe({ groupId: randomId('g'), topics: [topic], handler: async (message) => void received.push(message) });
      await bus.publish(topic, { key: 'k', value: Buffer.from('before') });
      await waitFor(() => received.length === 1, { timeoutMs: 60_000, description: 'the message before the crash' });

      await kafka.kill();
      // Long enough for kafkajs' own backoff (300 ms doubling up to 30 s) to reach waits of 10–20 s.
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      await kafka.restart();
      const back = Date.now();
      // What a producer published right after the broker's return reaches the consumer in seconds.
      await waitFor(() => bus.publish(topic, { key: 'k', value: Buffer.from('after') }).then(() => true), {
        timeoutMs: 30_000,
        intervalMs: 250,
        description: 'a publish after the restart',
      });
      await waitFor(() => received.some((message) => message.value.toString() === 'after'), {
        timeoutMs: 60_000,
        intervalMs: 100,
        description: 'the message after the restart',
      });
      expect(Date.now() - back).toBeLessThanOrEqual(10_000);
    } finally {
      await bus.close();
    }
  }, 180_000);

  it('subscribes while no broker answers: ensureTopics and subscribe wait for the broker instead of failing, then consume', async () => {
    const topic = randomId('late');
    const bus = new KafkaEventBus({ brokers: [kafka.brokers], clientId: 'late-test' });
    const received: DeliveredMessage[] = [];
    try {
      await kafka.kill();
      // A service (re)starting during the outage: its consumers start in the background.
      const starting = (async () => {
        await bus.ensureTopics([{ topic, partitions: 1 }]);
        await bus.subscribe({ groupId: randomId('g'), topics: [topic], handler: async (message) => void received.push(message) });
      })();
      const outcome = starting.then(
        () => 'started',
        (error: unknown) => error,
      );
      // Longer than kafkajs' own connection retries.
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      await kafka.restart();
      await expect(outcome).resolves.toBe('started');
      await bus.publish(topic, { key: 'k', value: Buffer.from('hello') });
      await waitFor(() => received.some((message) => message.value.toString() === 'hello'), {
        timeoutMs: 60_000,
        intervalMs: 100,
        description: 'the message',
      });
    } finally {
      await bus.close();
    }
  }, 180_000);
});
