import { describeEventBusContract, testInfra } from '@mailroute/testing';
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
