import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { randomId, startServiceProcess, testInfra, type ServiceProcess } from '@mailroute/testing';

const services = ['auth-broker', 'mailbox-fetch', 'interaction-router', 'outbound-send'] as const;

describe.each(services)('%s as a process', (service) => {
  const entry = `apps/${service}/src/main.ts`;
  let running: ServiceProcess | undefined;

  afterEach(async () => {
    await running?.stop('SIGKILL');
    running = undefined;
  });

  it('starts, answers grpc.health.v1 SERVING over a real socket, and exits 0 after draining on SIGTERM', async () => {
    const { mongoUrl, kafkaBrokers } = testInfra();
    running = startServiceProcess(entry, {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      AUTH_BROKER_METRICS_PORT: '0',
      MAILBOX_FETCH_METRICS_PORT: '0',
      // The router keeps no embedded store yet: it runs on the real FerretDB and Kafka.
      ROUTER_MONGODB_URL: mongoUrl,
      ROUTER_MONGODB_DATABASE: randomId('lifecycle'),
      ROUTER_KAFKA_BROKERS: kafkaBrokers.join(','),
    });
    const port = await running.port();
    const channel = createChannel(`127.0.0.1:${port}`);
    try {
      const health = createClient(HealthDefinition, channel);
      await expect(health.check({ service: '' })).resolves.toEqual({ status: 1 });
    } finally {
      channel.close();
    }
    const exit = await running.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    const steps = running.output
      .filter((line) => line.includes('shutdown: step done'))
      .map((line) => (JSON.parse(line) as { step: string }).step);
    expect(steps).toEqual(expect.arrayContaining(['grpc server', 'telemetry']));
    expect(running.output.some((line) => line.includes('"shutdown: complete"') && line.includes('"ok":true'))).toBe(true);
  });

  it('refuses to start on a bad environment variable, naming it', async () => {
    running = startServiceProcess(entry, { GRPC_PORT: 'not-a-port', LOG_LEVEL: 'chatty' });
    const exit = await running.exited;
    expect(exit.code).toBe(78);
    const stderr = running.output.join('\n');
    expect(stderr).toContain('GRPC_PORT is invalid');
    expect(stderr).toContain('LOG_LEVEL is invalid');
  });
});
