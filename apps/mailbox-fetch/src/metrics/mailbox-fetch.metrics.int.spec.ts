import { Mailbox, type InboundEmail } from '@mailroute/contracts';
import { events, fromEventMessage, KafkaEventBus, type Subscription } from '@mailroute/messaging';
import { createLogger, startMetrics, type Metrics } from '@mailroute/platform';
import {
  createSandboxMailTenant,
  createSandboxTokenProvider,
  metricValue,
  randomId,
  scrapeMetrics,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  type MetricSample,
  type SandboxMailTenant,
} from '@mailroute/testing';
import { composeMailboxFetch, type ComposedMailboxFetch } from '../compose';
import { openMongoStores, type MailboxFetchStores } from '../store/mailbox-fetch.stores';

describe('mailbox-fetch metrics on /metrics (graph sandbox, FerretDB, Kafka)', () => {
  const logger = createLogger({ name: 'mailbox-fetch-metrics-test', level: 'silent' });
  let started: Awaited<ReturnType<typeof startTestGraphSandbox>>;
  let bus: KafkaEventBus;
  let subscription: Subscription;
  let stores: MailboxFetchStores;
  let metrics: Metrics;
  let composed: ComposedMailboxFetch;
  const received: InboundEmail[] = [];
  const sandboxTenants = new Map<string, SandboxMailTenant>();

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('mf-metrics') });
    subscription = await bus.subscribe({
      groupId: randomId('mf-metrics-consumer'),
      topics: [events.inboundEmail.topic],
      fromBeginning: false,
      handler: async (message) => {
        received.push(fromEventMessage('inboundEmail', message));
      },
    });
    await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 30_000, description: 'consumer assignment' });
    stores = await openMongoStores({ url: testInfra().mongoUrl, database: randomId('mf-metrics') });
    metrics = await startMetrics({ serviceName: 'mailbox-fetch', port: 0 });
    // The composition root main.ts uses, with the sandbox's tokens instead of auth-broker's.
    composed = composeMailboxFetch(
      { stores, bus, tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants), logger, meter: metrics.meter },
      {
        replicaId: 'replica-m',
        apiKeys: [],
        runtime: {
          leaseTtlMs: 10_000,
          scanIntervalMs: 300,
          pollIntervalCapMs: 300,
          errorBackoffBaseMs: 200,
          errorBackoffMaxMs: 1_000,
        },
      },
    );
    await composed.start();
  }, 90_000);

  afterAll(async () => {
    await composed?.stop().catch(() => undefined);
    await metrics?.shutdown();
    await stores?.close().catch(() => undefined);
    await subscription?.close({ graceMs: 0 });
    await bus?.close();
    await started?.sandbox.stop();
  });

  it('reports intake per mailbox (ingested, lag, backlog) and counts Graph 429s and 503s with Retry-After per mailbox', async () => {
    const tenantId = randomId('tenant');
    const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 2 });
    sandboxTenants.set(tenantId, sandbox);
    const [calm, busy] = sandbox.mailboxes as [string, string];
    // Exactly two 429s and one 503 (each with Retry-After 1 s) for one mailbox; the client waits them out.
    // (Separate endpoints: a rule that matches alongside another is used up even when the other's status wins.)
    await started.endpoints.admin.addFault({
      tenantId: sandbox.directoryId,
      mailbox: busy,
      endpoint: 'messages.delta',
      status: 429,
      retryAfterSeconds: 1,
      times: 2,
    });
    await started.endpoints.admin.addFault({
      tenantId: sandbox.directoryId,
      mailbox: busy,
      endpoint: 'messages.get',
      status: 503,
      retryAfterSeconds: 1,
      times: 1,
    });
    await composed.core.createMailbox(tenantId, 'calm', Mailbox.fromPartial({ address: calm }));
    await composed.core.createMailbox(tenantId, 'busy', Mailbox.fromPartial({ address: busy }));
    await Promise.all(
      [calm, busy].map((address, box) =>
        started.endpoints.admin.deliverBulk(
          sandbox.directoryId,
          address,
          Array.from({ length: 3 + box }, (_, i) => ({ from: `c${i}@example.org`, subject: `m ${box}-${i}` })),
        ),
      ),
    );
    await waitFor(() => received.filter((e) => e.tenantId === tenantId).length === 7, {
      timeoutMs: 40_000,
      description: 'all 7 e-mails',
    });

    const port = metrics.port ?? 0;
    const samples = await waitFor(
      async () => {
        const scraped = await scrapeMetrics(port);
        const throttled = (status: string) =>
          metricValue(scraped, 'mailroute_mailbox_fetch_graph_throttled_total', {
            tenant: tenantId,
            address: busy.toLowerCase(),
            status,
          });
        return throttled('429') === 2 &&
          throttled('503') === 1 &&
          metricValue(scraped, 'mailroute_mailbox_fetch_mailbox_lag_seconds', { tenant: tenantId, mailbox: 'busy' }) !== undefined
          ? scraped
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, description: 'metrics after intake' },
    );
    const of = (name: string, labels: Record<string, string>) => metricValue(samples, name, { tenant: tenantId, ...labels });
    expect(of('mailroute_mailbox_fetch_messages_ingested_total', { mailbox: 'calm' })).toBe(3);
    expect(of('mailroute_mailbox_fetch_messages_ingested_total', { mailbox: 'busy' })).toBe(4);
    expect(of('mailroute_mailbox_fetch_graph_throttled_total', { address: calm.toLowerCase() })).toBeUndefined();
    expect(of('mailroute_mailbox_fetch_graph_throttled_wait_seconds_total', { address: busy.toLowerCase() })).toBe(3);
    for (const mailbox of ['calm', 'busy']) {
      const lag = of('mailroute_mailbox_fetch_mailbox_lag_seconds', { mailbox });
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(30);
      expect(of('mailroute_mailbox_fetch_mailbox_backlog_messages', { mailbox })).toBe(0);
    }
    expect(of('mailroute_mailbox_fetch_intake_freshness_seconds_count', {})).toBe(7);
    // Mailbox ids and addresses only: no message or interaction ids in any label.
    const ids = received
      .filter((e) => e.tenantId === tenantId)
      .flatMap((e) => [e.interactionId, e.message?.internetMessageId ?? '', e.message?.graphMessageId ?? ''])
      .filter(Boolean);
    expect(samples.some((s: MetricSample) => Object.values(s.labels).some((value) => ids.includes(value)))).toBe(false);
  }, 90_000);
});
