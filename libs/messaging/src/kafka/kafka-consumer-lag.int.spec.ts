import { startMetrics, type Metrics } from '@mailroute/platform';
import { metricValue, randomId, scrapeMetrics, testInfra, waitFor } from '@mailroute/testing';
import { KafkaEventBus } from '../index';

describe('KafkaEventBus consumer lag on /metrics (real Apache Kafka broker)', () => {
  let metrics: Metrics;
  let bus: KafkaEventBus;

  beforeEach(async () => {
    metrics = await startMetrics({ serviceName: 'consumer-lag-test', port: 0 });
    bus = new KafkaEventBus({
      brokers: testInfra().kafkaBrokers,
      clientId: 'consumer-lag-test',
      consumerLag: { meter: metrics.meter, intervalMs: 250 },
    });
  });

  afterEach(async () => {
    await bus.close();
    await metrics.shutdown();
  });

  it('exports the lag per group, topic and partition: it rises while the consumer stops and falls to 0 once it catches up', async () => {
    const topic = randomId('lag');
    const groupId = randomId('lag-group');
    await bus.ensureTopics([{ topic, partitions: 2 }]);
    let handled = 0;
    let release: () => void = () => undefined;
    const gate: { stopped?: Promise<void> } = {};
    await bus.subscribe({
      groupId,
      topics: [topic],
      handler: async () => {
        await gate.stopped;
        handled += 1;
      },
    });
    const lag = async (partition?: string) =>
      metricValue(await scrapeMetrics(metrics.port as number), 'mailroute_kafka_consumer_lag', {
        consumer_group: groupId,
        topic,
        ...(partition === undefined ? {} : { partition }),
      });
    const publish = (count: number, key: string) =>
      bus.publish(
        topic,
        Array.from({ length: count }, (_, i) => ({ key, value: Buffer.from(`message ${i}`) })),
      );

    await publish(3, 'a');
    await waitFor(async () => handled === 3 && (await lag()) === 0, { timeoutMs: 60_000, description: 'caught up, lag 0' });
    expect(await lag('0')).toBeDefined();
    expect(await lag('1')).toBeDefined();

    gate.stopped = new Promise<void>((resolve) => (release = resolve));
    await publish(10, 'a');
    await waitFor(async () => (await lag()) === 10, { timeoutMs: 60_000, description: 'lag 10 while the handler is stopped' });
    expect(handled).toBeLessThanOrEqual(3);

    release();
    await waitFor(async () => handled === 13 && (await lag()) === 0, {
      timeoutMs: 60_000,
      description: 'lag back to 0 after consumption resumes',
    });
  }, 120_000);
});
