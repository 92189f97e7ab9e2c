import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createChannel, createClient, Metadata, type Channel } from 'nice-grpc';
import {
  AgentDesktopServiceDefinition,
  AgentPresence,
  InboundEmail,
  InteractionRouterServiceDefinition,
  InteractionState,
} from '@mailroute/contracts';
import { eventKey, events, KafkaEventBus, toEventMessage } from '@mailroute/messaging';
import {
  createCallerAuthenticator,
  createLogger,
  hashBearerCredential,
  loadConfig,
  serviceConfigSchema,
  startMetrics,
  type Metrics,
} from '@mailroute/platform';
import { metricValue, randomId, scrapeMetrics, testInfra, waitFor, type MetricSample } from '@mailroute/testing';
import { configSchema } from '../config';
import { composeInteractionRouter, type RouterServer } from '../compose';
import { wireInteractionRouter } from '../wiring';
import { openMongoRouterStores, type RouterStores } from '../store/router-stores';
import { collectStream, createTestIdentityProvider } from '../../test/router-harness';
import { createRouterMetrics, type RouterMetrics } from './router.metrics';

const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

const collect = collectStream;

describe('interaction-router metrics on /metrics (real Kafka, FerretDB, gRPC)', () => {
  const tenant = randomId('tenant-m');
  const directory = randomId('dir-m');
  const apiKey = `mrk_${randomUUID()}`;
  const logger = createLogger({
    name: 'router-metrics-test',
    level: 'warn',
    ...(process.env['ROUTER_TEST_DEBUG'] ? {} : { destination: silent }),
  });
  let stores: RouterStores;
  let bus: KafkaEventBus;
  let metrics: Metrics;
  let routerMetrics: RouterMetrics;
  let server: RouterServer;
  let channel: Channel;
  let idp: Awaited<ReturnType<typeof createTestIdentityProvider>>;

  const scrape = () => scrapeMetrics(metrics.port ?? 0);
  const queue = { tenant, queue: 'billing' };
  /** Scrapes until `check` holds on the samples; returns them (at the first scrape that shows it: the budget is for a busy machine). */
  const scrapeUntil = (check: (samples: MetricSample[]) => boolean, timeoutMs = 90_000) =>
    waitFor(
      async () => {
        const samples = await scrape();
        return check(samples) ? samples : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );

  beforeAll(async () => {
    const infra = testInfra();
    idp = await createTestIdentityProvider(new Map([[directory, tenant]]));
    stores = await openMongoRouterStores(infra.mongoUrl, randomId('router-metrics'));
    bus = new KafkaEventBus({ brokers: infra.kafkaBrokers, clientId: 'router-metrics-test', logger });
    // The wiring of service.ts, with the test identity provider instead of Entra ID's JWKS.
    metrics = await startMetrics({ serviceName: 'interaction-router', port: 0 });
    const replicaId = randomId('replica');
    routerMetrics = createRouterMetrics({
      meter: metrics.meter,
      stores,
      logger,
      replicaId,
      options: { snapshotIntervalMs: 500, statisticsIntervalMs: 1_000 },
    });
    server = composeInteractionRouter(
      {
        logger,
        stores,
        bus,
        authenticator: createCallerAuthenticator({
          apiKeys: [
            { id: 'key', tenantId: tenant, scopes: ['routing.read', 'routing.write'], sha256: hashBearerCredential(apiKey) },
          ],
        }),
        agentVerifier: idp.verifier,
      },
      {
        replicaId,
        consumerGroupId: randomId('router-group'),
        inboundFromBeginning: false,
        pollIntervalMs: 300,
        sweepIntervalMs: 200,
        sessionTtlMs: 6_000,
        sessionRefreshMs: 2_000,
        onCommitted: routerMetrics.onCommitted,
      },
    );
    await server.start();
    routerMetrics.start(server.core);
    await waitFor(() => server.runtime.consuming() && server.hub.consuming(), { timeoutMs: 60_000 });
    channel = createChannel(`127.0.0.1:${await server.listen('127.0.0.1', 0)}`);
  }, 90_000);

  afterAll(async () => {
    channel?.close();
    await server?.shutdown(1_000).catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await routerMetrics?.stop();
    await metrics?.shutdown();
    await bus?.close();
    await stores?.close();
  });

  it('shows queue depth and oldest wait, then counts offers, acceptance, decline, timeout and completion', async () => {
    const admin = createClient(InteractionRouterServiceDefinition, channel, {
      '*': { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
    });
    await admin.createQueue({
      queueId: 'billing',
      queue: {
        displayName: 'Billing',
        offerTimeout: { seconds: 10, nanos: 0 },
        serviceLevel: { threshold: { seconds: 3600, nanos: 0 }, targetPercent: 90 },
      },
    });
    await admin.createRoutingRule({
      ruleId: 'invoices',
      rule: {
        displayName: 'Invoices',
        condition: { subjectPatterns: [{ pattern: { $case: 'contains', value: 'invoice' } }] },
        action: { action: { $case: 'route', value: { queueId: 'billing', priority: 300, requiredSkills: [], tags: [] } } },
      },
    });
    await admin.createAgent({
      agentId: 'alice',
      agent: { displayName: 'Alice', entraObjectId: 'oid-alice', queueIds: ['billing'], capacity: 3, skills: [] },
    });

    // An empty queue is reported as such once the snapshot ran.
    await scrapeUntil(
      (s) =>
        metricValue(s, 'mailroute_router_queue_waiting', queue) === 0 &&
        metricValue(s, 'mailroute_router_queue_service_level_target_percent', queue) === 90,
    );

    const ids = [randomId('ix'), randomId('ix'), randomId('ix')];
    for (const [index, interactionId] of ids.entries()) {
      const message = InboundEmail.fromPartial({
        eventId: randomUUID(),
        occurredAt: new Date(),
        tenantId: tenant,
        interactionId,
        mailboxId: 'support',
        mailboxAddress: 'support@contoso.test',
        message: { subject: `invoice ${index}`, conversationId: `conv-${interactionId}`, graphMessageId: `g-${interactionId}` },
      });
      await bus.publish(events.inboundEmail.topic, toEventMessage('inboundEmail', eventKey(tenant, 'support'), message));
    }
    // No agent is signed in: all three wait, and the oldest wait grows.
    const waiting = await scrapeUntil(
      (s) =>
        metricValue(s, 'mailroute_router_queue_waiting', queue) === 3 &&
        (metricValue(s, 'mailroute_router_queue_oldest_wait_seconds', queue) ?? 0) > 0,
    );
    expect(metricValue(waiting, 'mailroute_router_interactions_routed_total', { ...queue, by: 'rule' })).toBe(3);
    expect(metricValue(waiting, 'mailroute_router_queue_agents_available', queue)).toBe(0);
    expect(metricValue(waiting, 'mailroute_router_offers_total', queue)).toBeUndefined();

    // Alice signs in: three offers.
    const abort = new AbortController();
    const token = await idp.token(directory, 'oid-alice');
    const desktop = createClient(AgentDesktopServiceDefinition, channel, {
      '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
    });
    const stream = collect(desktop.connect({ clientInstanceId: 'tab-1' }, { signal: abort.signal }));
    await waitFor(() => stream.offers().length >= 3, { timeoutMs: 60_000 });
    // (The gauges read the waiting and offer indexes, which each commit updates side by side: wait for both.)
    const offered = await scrapeUntil(
      (s) =>
        metricValue(s, 'mailroute_router_queue_offered', queue) === 3 &&
        metricValue(s, 'mailroute_router_queue_waiting', queue) === 0 &&
        metricValue(s, 'mailroute_router_queue_agents_available', queue) === 1,
    );
    expect(metricValue(offered, 'mailroute_router_offers_total', { ...queue, kind: 'routed' })).toBe(3);

    // Accept one, decline one, let the third lapse.
    const [first, second] = stream.offers();
    if (!first || !second) throw new Error('offers missing');
    expect((await desktop.accept({ offerId: first.offerId })).interaction?.state).toBe(
      InteractionState.INTERACTION_STATE_ASSIGNED,
    );
    await desktop.decline({ offerId: second.offerId, reason: 'not mine' });
    const answered = await scrapeUntil(
      (s) =>
        metricValue(s, 'mailroute_router_interactions_assigned_total', {
          ...queue,
          by: 'offer',
          within_service_level: 'true',
        }) === 1 &&
        metricValue(s, 'mailroute_router_offers_declined_total', queue) === 1 &&
        metricValue(s, 'mailroute_router_queue_assigned', queue) === 1 &&
        metricValue(s, 'mailroute_router_queue_accepted_in_window', queue) === 1 &&
        // Alice is the queue's only open agent: her pass is set aside and the declined one is offered again.
        metricValue(s, 'mailroute_router_offers_total', { ...queue, kind: 'routed' }) === 4,
    );
    expect(metricValue(answered, 'mailroute_router_queue_service_level_percent', queue)).toBe(100);

    // The 10 s offer timeout passes for both open offers: each lapse is counted, and each comes back to alice.
    await scrapeUntil(
      (s) =>
        (metricValue(s, 'mailroute_router_offers_timed_out_total', queue) ?? 0) >= 2 &&
        (metricValue(s, 'mailroute_router_offers_total', { ...queue, kind: 'routed' }) ?? 0) >= 6,
      30_000,
    );
    // Alice steps away: her offers go back to the queue (revoked, not passed) and both wait.
    await desktop.setPresence({ presence: AgentPresence.AGENT_PRESENCE_AWAY, reason: 'break' });
    await scrapeUntil(
      (s) =>
        metricValue(s, 'mailroute_router_queue_waiting', queue) === 2 &&
        metricValue(s, 'mailroute_router_queue_offered', queue) === 0 &&
        metricValue(s, 'mailroute_router_queue_agents_available', queue) === 0,
    );

    await desktop.complete({ interactionId: first.interaction?.interactionId ?? '', dispositionCode: 'resolved', note: '' });
    const done = await scrapeUntil(
      (s) =>
        metricValue(s, 'mailroute_router_interactions_completed_total', queue) === 1 &&
        metricValue(s, 'mailroute_router_queue_assigned', queue) === 0,
    );
    expect(metricValue(done, 'mailroute_router_queue_accepted_in_window', queue)).toBe(1);
    // The same figures as the workload-manager API's (one shared computation).
    const rpc = (await admin.getQueueStatistics({ queueId: 'billing' })).statistics;
    expect(rpc).toMatchObject({
      waiting: metricValue(done, 'mailroute_router_queue_waiting', queue),
      offered: 0,
      assigned: 0,
      acceptedInWindow: 1,
      agentsAvailable: 0,
    });
    expect(rpc?.serviceLevel).toMatchObject({ achievedPercent: 100, targetPercent: 90, interactionsCounted: 1 });
    expect(metricValue(done, 'mailroute_router_queue_snapshot_duration_seconds')).toBeGreaterThanOrEqual(0);
    expect(metricValue(done, 'mailroute_router_queue_statistics_duration_seconds')).toBeGreaterThan(0);
    // Tenant and queue are the only identifying labels: no interaction ids in any series.
    expect(done.some((s) => Object.values(s.labels).some((value) => ids.some((id) => value.includes(id))))).toBe(false);
    abort.abort();
    await stream.done;
    // Besides its waits, the test sits out a 10 s offer timeout: the suite's 180 s, not less, on a busy CI machine.
  }, 180_000);

  it('counts waiting interactions due soon, then breached, against their first-response due time', async () => {
    const admin = createClient(InteractionRouterServiceDefinition, channel, {
      '*': { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
    });
    // Due one minute after it arrives, and due soon from the start (a one-minute window); nobody serves the queue.
    await admin.createQueue({
      queueId: 'urgent',
      queue: {
        displayName: 'Urgent',
        serviceLevel: { threshold: { seconds: 60, nanos: 0 }, targetPercent: 90, dueSoonBefore: { seconds: 60, nanos: 0 } },
      },
    });
    const urgent = { tenant, queue: 'urgent' };
    await scrapeUntil((s) => metricValue(s, 'mailroute_router_queue_sla_due_soon', urgent) === 0);
    const interactionId = randomId('ix');
    const message = InboundEmail.fromPartial({
      eventId: randomUUID(),
      occurredAt: new Date(),
      tenantId: tenant,
      interactionId,
      mailboxId: 'support',
      mailboxAddress: 'support@contoso.test',
      defaultQueueId: 'urgent',
      message: { subject: 'please hurry', conversationId: `conv-${interactionId}`, graphMessageId: `g-${interactionId}` },
    });
    await bus.publish(events.inboundEmail.topic, toEventMessage('inboundEmail', eventKey(tenant, 'support'), message));
    const soon = await scrapeUntil((s) => metricValue(s, 'mailroute_router_queue_sla_due_soon', urgent) === 1);
    expect(metricValue(soon, 'mailroute_router_queue_sla_breached', urgent)).toBe(0);
    const breached = await scrapeUntil(
      (s) =>
        metricValue(s, 'mailroute_router_queue_sla_breached', urgent) === 1 &&
        metricValue(s, 'mailroute_router_queue_sla_due_soon', urgent) === 0,
      120_000,
    );
    expect(metricValue(breached, 'mailroute_router_queue_waiting', urgent)).toBe(1);
  }, 180_000);

  it('has one replica at a time compute and export the queue gauges (a lease), while counters stay per replica', async () => {
    const secondEndpoint = await startMetrics({ serviceName: 'interaction-router', port: 0 });
    const second = createRouterMetrics({
      meter: secondEndpoint.meter,
      stores,
      logger,
      replicaId: randomId('replica-2'),
      options: { snapshotIntervalMs: 600_000 },
    });
    try {
      second.start(server.core);
      await second.refresh();
      await routerMetrics.refresh();
      const exported = await Promise.all([scrape(), scrapeMetrics(secondEndpoint.port ?? 0)]);
      const reporting = exported.filter((samples) => metricValue(samples, 'mailroute_router_queue_waiting', queue) !== undefined);
      expect(reporting).toHaveLength(1);
      expect(
        exported.filter((samples) => metricValue(samples, 'mailroute_router_queue_snapshot_duration_seconds') !== undefined),
      ).toHaveLength(1);
      // The second replica committed nothing: it counts nothing.
      expect(metricValue(exported[1] ?? [], 'mailroute_router_offers_total')).toBeUndefined();
    } finally {
      await second.stop();
      await secondEndpoint.shutdown();
    }
  }, 60_000);
});

describe('wireInteractionRouter (the composition root) serves the metrics', () => {
  it('starts the endpoint on ROUTER_METRICS_PORT and reports a configured queue', async () => {
    const lines: { msg?: string; port?: number }[] = [];
    const logger = createLogger({
      name: 'interaction-router',
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean))
            lines.push(JSON.parse(line) as { msg?: string; port?: number });
          done();
        },
      }),
    });
    const tenant = randomId('tenant-w');
    const apiKey = `mrk_${randomUUID()}`;
    const config = loadConfig(serviceConfigSchema.extend(configSchema.shape), {
      GRPC_PORT: '0',
      ROUTER_MONGODB_URL: testInfra().mongoUrl,
      ROUTER_MONGODB_DATABASE: randomId('router-wired'),
      ROUTER_CONSUMER_GROUP: randomId('group'),
      ROUTER_API_KEYS: `key:${tenant}:routing.read+routing.write:${hashBearerCredential(apiKey)}`,
      ROUTER_METRICS_PORT: '0',
      ROUTER_METRICS_SNAPSHOT_MS: '1000',
      ROUTER_METRICS_STATISTICS_MS: '1000',
    });
    const parts = await wireInteractionRouter(config, logger);
    const channel = createChannel(`127.0.0.1:${await parts.server.listen('127.0.0.1', 0)}`);
    try {
      // As runService does: consumers and the queue metrics start once the server listens.
      await parts.startAfterListen?.();
      const port = (await waitFor(() => lines.find((l) => l.msg === 'interaction-router: metrics at /metrics'))).port ?? 0;
      // The snapshot runs every second (ROUTER_METRICS_SNAPSHOT_MS); a busy machine may take many of them
      // to get the lease and read the store, and each wait ends at the first scrape that shows the queue.
      const scrapeBudget = { timeoutMs: 60_000, intervalMs: 200 };
      expect(port).toBeGreaterThan(0);
      const admin = createClient(InteractionRouterServiceDefinition, channel, {
        '*': { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
      });
      await admin.createQueue({ queueId: 'sales', queue: { displayName: 'Sales' } });
      const samples = await waitFor(async () => {
        const scraped = await scrapeMetrics(port);
        return metricValue(scraped, 'mailroute_router_queue_waiting', { tenant, queue: 'sales' }) === 0 ? scraped : undefined;
      }, scrapeBudget);
      expect(metricValue(samples, 'mailroute_router_queue_service_level_target_percent', { tenant, queue: 'sales' })).toBe(80);
      const statistics = await waitFor(async () => {
        const scraped = await scrapeMetrics(port);
        return metricValue(scraped, 'mailroute_router_queue_service_level_percent', { tenant, queue: 'sales' }) === 100
          ? scraped
          : undefined;
      }, scrapeBudget);
      expect(metricValue(statistics, 'mailroute_router_queue_statistics_age_seconds', { tenant, queue: 'sales' })).toBeLessThan(
        60,
      );
    } finally {
      channel.close();
      await parts.server.shutdown(1_000);
      for (const step of parts.closeAfterServer ?? []) await step.run();
    }
  }, 180_000);
});
