import { randomBytes } from 'node:crypto';
import { Metadata } from 'nice-grpc';
import { OutboundSendServiceDefinition, SendState, type OutgoingMessage } from '@mailroute/contracts';
import { KafkaEventBus } from '@mailroute/messaging';
import { MongoDocumentTable, type MongoStore } from '@mailroute/persistence';
import {
  createCallerAuthenticator,
  createGrpcClient,
  createLogger,
  hashBearerCredential,
  startMetrics,
  type GrpcServer,
  type Metrics,
} from '@mailroute/platform';
import {
  createSandboxMailTenant,
  createSandboxTokenProvider,
  metricValue,
  randomId,
  scrapeMetrics,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  type SandboxMailTenant,
} from '@mailroute/testing';
import { createTableMailboxDirectory, mailboxConfigTableName, type MailboxConfigView } from '../mailboxes/mailbox-directory';
import { createOutboundSend, type OutboundSend } from '../outbound-send';
import { createServer } from '../server';
import { openMongoStores, type OutboundSendStores } from '../store/outbound-send.stores';
import { createOutboundSendMetrics } from './outbound-send.metrics';

describe('outbound-send metrics on /metrics (graph sandbox, FerretDB, Kafka)', () => {
  const logger = createLogger({ name: 'outbound-send-metrics-test', level: 'silent' });
  const tenant = randomId('t-ok');
  const denied = randomId('t-nosend');
  const key = `mrk_${randomBytes(12).toString('hex')}`;
  const sandboxTenants = new Map<string, SandboxMailTenant>();
  let started: Awaited<ReturnType<typeof startTestGraphSandbox>>;
  let bus: KafkaEventBus;
  let stores: OutboundSendStores & { store: MongoStore };
  let metrics: Metrics;
  let service: OutboundSend;
  let server: GrpcServer;
  let client: ReturnType<typeof createGrpcClient<typeof OutboundSendServiceDefinition>>;

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('os-metrics'), sessionTimeoutMs: 60_000 });
    stores = await openMongoStores({ url: testInfra().mongoUrl, database: randomId('os-metrics') });
    const mailboxTable = new MongoDocumentTable<MailboxConfigView>(stores.store, mailboxConfigTableName);
    sandboxTenants.set(tenant, await createSandboxMailTenant(started.endpoints, { mailboxCount: 1 }));
    sandboxTenants.set(
      denied,
      await createSandboxMailTenant(started.endpoints, { applicationPermissions: ['Mail.ReadWrite', 'User.Read.All'] }),
    );
    for (const [tenantId, sandbox] of sandboxTenants)
      await mailboxTable.put(`${tenantId}/box-0`, {
        address: sandbox.mailboxes[0] as string,
        accessMode: 1,
        credentialsId: '',
        enabled: true,
      });
    // The wiring of wiring.ts: the same instruments as the send engine's events and the Graph clients' throttle observer.
    metrics = await startMetrics({ serviceName: 'outbound-send', port: 0 });
    const instruments = createOutboundSendMetrics(metrics.meter);
    service = createOutboundSend({
      stores,
      bus,
      tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants),
      mailboxes: createTableMailboxDirectory(mailboxTable, { cacheMs: 0 }),
      logger,
      replicaId: 'metrics-replica',
      events: instruments,
      onThrottled: instruments.onThrottled,
      options: {
        groupId: randomId('os-metrics'),
        fromBeginning: false,
        graphRequestTimeoutMs: 5_000,
        dueIntervalMs: 200,
        sendRatePerWindow: 1_000,
        engine: { backoffBaseMs: 200, backoffMaxMs: 2_000, inlineWaitMaxMs: 5_000 },
      },
    });
    await service.start();
    const authenticator = createCallerAuthenticator({
      apiKeys: [...sandboxTenants.keys()].map((tenantId) => ({
        id: `${tenantId}-w`,
        tenantId,
        scopes: ['sends.read', 'sends.write'],
        sha256: hashBearerCredential(`${key}-${tenantId}`),
      })),
    });
    server = createServer({ logger, service, authenticator });
    client = createGrpcClient(OutboundSendServiceDefinition, `127.0.0.1:${await server.listen('127.0.0.1', 0)}`, {
      deadlineMs: 30_000,
    });
    await waitFor(() => service.assigned(), { timeoutMs: 60_000, description: 'consumer assignments' });
  }, 90_000);

  afterAll(async () => {
    client?.close();
    await server?.shutdown(1_000).catch(() => undefined);
    await service?.stop();
    await metrics?.shutdown();
    await bus?.close();
    await stores?.store.db.dropDatabase().catch(() => undefined);
    await stores?.close();
    await started?.sandbox.stop();
  });

  const send = async (tenantId: string, subject: string) => {
    const auth = { metadata: Metadata({ authorization: `Bearer ${key}-${tenantId}` }) };
    const accepted = await client.client.sendNew(
      {
        idempotencyKey: randomId('m'),
        mailboxId: 'box-0',
        interactionId: '',
        content: { subject, bodyText: subject, to: [{ address: 'c@customer.example', name: '' }] } as OutgoingMessage,
      },
      auth,
    );
    return waitFor(
      async () => {
        const status = (await client.client.getSendStatus({ key: { $case: 'sendId', value: accepted.send?.sendId ?? '' } }, auth))
          .send;
        return status && (status.state === SendState.SEND_STATE_SENT || status.state === SendState.SEND_STATE_FAILED)
          ? status
          : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 100, description: `send ${subject} final` },
    );
  };

  it('counts sends and failures by final state, attempts by outcome, and Graph 429s per mailbox', async () => {
    const sandbox = sandboxTenants.get(tenant) as SandboxMailTenant;
    const address = (sandbox.mailboxes[0] as string).toLowerCase();
    await started.endpoints.admin.addFault({
      tenantId: sandbox.directoryId,
      endpoint: 'messages.create',
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
    });
    expect((await send(tenant, 'first')).state).toBe(SendState.SEND_STATE_SENT);
    expect((await send(tenant, 'second')).state).toBe(SendState.SEND_STATE_SENT);
    // No Mail.Send permission: a final failure.
    expect((await send(denied, 'refused')).state).toBe(SendState.SEND_STATE_FAILED);

    const samples = await waitFor(
      async () => {
        const scraped = await scrapeMetrics(metrics.port ?? 0);
        return metricValue(scraped, 'mailroute_outbound_send_sends_total', { state: 'failed' }) === 1 ? scraped : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(metricValue(samples, 'mailroute_outbound_send_sends_total', { state: 'sent' })).toBe(2);
    expect(metricValue(samples, 'mailroute_outbound_send_attempts_total', { outcome: 'sent' })).toBe(2);
    expect(metricValue(samples, 'mailroute_outbound_send_attempts_total', { outcome: 'retry' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(samples, 'mailroute_outbound_send_latency_seconds_count', { state: 'sent' })).toBe(2);
    expect(metricValue(samples, 'mailroute_outbound_send_graph_throttled_total', { tenant, address, status: '429' })).toBe(1);
    expect(
      metricValue(samples, 'mailroute_outbound_send_graph_throttled_wait_seconds_total', { tenant, address, status: '429' }),
    ).toBe(1);
    expect(metricValue(samples, 'mailroute_outbound_send_graph_throttled_total', { tenant: denied })).toBeUndefined();
  }, 90_000);
});
