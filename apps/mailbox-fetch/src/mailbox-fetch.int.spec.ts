import { Mailbox, MailboxSyncState, type InboundEmail } from '@mailroute/contracts';
import { createGraphMailClient, createMailboxLimiter, type GraphMailClient } from '@mailroute/graph-mail';
import { events, fromEventMessage, KafkaEventBus, type EventBus, type Subscription } from '@mailroute/messaging';
import { createLogger, UnavailableError } from '@mailroute/platform';
import {
  createSandboxMailTenant,
  createSandboxTokenProvider,
  randomId,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  type SandboxMailTenant,
} from '@mailroute/testing';
import { createMailboxFetchCore, type MailboxFetchCore } from './mailbox-fetch';
import { openMongoStores, type MailboxFetchStores } from './store/mailbox-fetch.stores';

/** Scaled by MAILBOX_FETCH_TEST_EMAILS (default 1,000 over 20 mailboxes). */
const totalEmails = Number(process.env['MAILBOX_FETCH_TEST_EMAILS'] ?? 1000);
const mailboxCount = 20;

type Started = Awaited<ReturnType<typeof startTestGraphSandbox>>;

describe('mailbox-fetch intake against the graph sandbox, FerretDB and Kafka', () => {
  const logger = createLogger({ name: 'mailbox-fetch-test', level: (process.env['MF_TEST_LOG'] as 'info' | undefined) ?? 'silent' });
  let started: Started;
  let bus: KafkaEventBus;
  let subscription: Subscription;
  const received: InboundEmail[] = [];
  const sandboxTenants = new Map<string, SandboxMailTenant>();
  const opened: { stores: MailboxFetchStores; core: MailboxFetchCore }[] = [];

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('mf-test') });
    await bus.ensureTopics([{ topic: events.inboundEmail.topic, partitions: 8 }]);
    subscription = await bus.subscribe({
      groupId: randomId('mf-test-consumer'),
      topics: [events.inboundEmail.topic],
      fromBeginning: false,
      handler: async (message) => {
        received.push(fromEventMessage('inboundEmail', message));
      },
    });
    await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 30_000, description: 'consumer assignment' });
  });

  afterAll(async () => {
    for (const { core, stores } of opened) {
      await core.runtime.stop().catch(() => undefined);
      await stores.close().catch(() => undefined);
    }
    await subscription.close({ graceMs: 0 });
    await bus.close();
    await started.sandbox.stop();
  });

  let graph: GraphMailClient;
  function graphClient(): GraphMailClient {
    graph ??= createGraphMailClient({ tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants), limiter: createMailboxLimiter({ perMailbox: 3 }), deltaPageSize: 25, logger });
    return graph;
  }

  async function startReplica(database: string, replicaId: string, options: { bus?: EventBus; graph?: GraphMailClient; leaseTtlMs?: number } = {}) {
    const stores = await openMongoStores({ url: testInfra().mongoUrl, database });
    const core = createMailboxFetchCore({
      stores,
      graph: options.graph ?? graphClient(),
      bus: options.bus ?? bus,
      logger,
      replicaId,
      options: { leaseTtlMs: options.leaseTtlMs ?? 4_000, scanIntervalMs: 300, pollIntervalCapMs: 300, errorBackoffBaseMs: 200, errorBackoffMaxMs: 1_000, maxPagesPerTurn: 2 },
    });
    opened.push({ stores, core });
    core.runtime.start();
    return { stores, core };
  }

  async function newTenant(count: number) {
    const tenantId = randomId('tenant');
    const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: count });
    sandboxTenants.set(tenantId, sandbox);
    return { tenantId, sandbox };
  }

  const eventsOf = (tenantId: string) => received.filter((event) => event.tenantId === tenantId);

  function deliverAll(sandbox: SandboxMailTenant, perMailbox: number, tag: string) {
    return Promise.all(
      sandbox.mailboxes.map((address, box) =>
        started.endpoints.admin.deliverBulk(
          sandbox.directoryId,
          address,
          Array.from({ length: perMailbox }, (_, i) => ({ from: `customer${i}@example.org`, subject: `${tag} ${box}-${String(i).padStart(4, '0')}`, body: `hello ${i}` })),
        ),
      ),
    );
  }

  it(`ingests ${totalEmails} emails over ${mailboxCount} mailboxes exactly once and in order per mailbox`, async () => {
    const { tenantId, sandbox } = await newTenant(mailboxCount);
    const database = randomId('mf');
    // A long lease: two shared cores run the sandbox, Kafka, FerretDB and this test under full load.
    const { core, stores } = await startReplica(database, 'replica-a', { leaseTtlMs: 20_000 });
    for (const [i, address] of sandbox.mailboxes.entries()) await core.createMailbox(tenantId, `box-${i}`, Mailbox.fromPartial({ address }));
    const perMailbox = Math.ceil(totalEmails / mailboxCount);
    const begun = Date.now();
    await deliverAll(sandbox, perMailbox, 'mail');
    await waitFor(() => eventsOf(tenantId).length >= perMailbox * mailboxCount, { timeoutMs: 90_000, description: 'all events' });
    const seconds = (Date.now() - begun) / 1000;
    logger.info({ seconds }, 'intake done');

    const all = eventsOf(tenantId);
    expect(new Set(all.map((event) => event.interactionId)).size).toBe(perMailbox * mailboxCount);
    expect(all).toHaveLength(perMailbox * mailboxCount);
    for (let box = 0; box < mailboxCount; box += 1) {
      const subjects = all.filter((event) => event.mailboxId === `box-${box}`).map((event) => event.message?.subject);
      expect(subjects).toEqual(Array.from({ length: perMailbox }, (_, i) => `mail ${box}-${String(i).padStart(4, '0')}`));
    }
    const records = await stores.inbound.list({ prefix: `${tenantId}/`, limit: 100_000 });
    expect(records.filter((entry) => !entry.key.includes('#'))).toHaveLength(perMailbox * mailboxCount);
    // The status is saved when a turn ends, after its events are out: wait for the turn that finished the round.
    await waitFor(
      async () => {
        const saved = await core.getSyncStatus(tenantId, 'box-0');
        return saved.state === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY && saved.messagesIngestedTotal >= perMailbox;
      },
      { timeoutMs: 20_000, description: 'box-0 status saved' },
    );
    const status = await core.getSyncStatus(tenantId, 'box-0');
    expect(status).toMatchObject({ state: MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY, messagesIngestedTotal: perMailbox, leaseOwner: 'replica-a' });
    // Marked read: the next rounds see the updates and ingest nothing again.
    const folder = await started.endpoints.admin.folderMessages(sandbox.directoryId, sandbox.mailboxes[0] ?? '', 'inbox');
    await waitFor(async () => (await started.endpoints.admin.folderMessages(sandbox.directoryId, sandbox.mailboxes[0] ?? '', 'inbox')).value.every((m) => m.isRead), { timeoutMs: 20_000 });
    expect(folder.value.length).toBe(perMailbox);
    expect(eventsOf(tenantId)).toHaveLength(perMailbox * mailboxCount);
  });

  it('slows only a hard-throttled mailbox, loses nothing there, and never exceeds the concurrency limit; a mailbox outside the access policy shows ACCESS_DENIED while the rest flow', async () => {
    const { tenantId, sandbox } = await newTenant(4);
    const [healthy, throttled, denied] = sandbox.mailboxes;
    await started.endpoints.admin.createAccessPolicy(sandbox.directoryId, { appId: sandbox.clientId, accessRight: 'DenyAccess', policyScopeGroupId: `blocked@${sandbox.domain}`, members: [denied ?? ''] });
    await started.endpoints.admin.setThrottling(sandbox.directoryId, { maxConcurrentRequests: 2, concurrencyRetryAfterSeconds: 1 });
    await started.endpoints.admin.addFault({ tenantId: sandbox.directoryId, mailbox: throttled ?? '', endpoint: 'messages.*', status: 429, retryAfterSeconds: 1, probability: 0.15 });
    await started.endpoints.admin.addFault({ tenantId: sandbox.directoryId, mailbox: throttled ?? '', endpoint: 'messages.get', latency: { distribution: 'fixed', ms: 30 } });
    const { core } = await startReplica(randomId('mf'), 'replica-t', {
      graph: createGraphMailClient({ tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants), limiter: createMailboxLimiter({ perMailbox: 2 }), logger }),
    });
    for (const [i, address] of [healthy, throttled, denied].entries()) await core.createMailbox(tenantId, `m-${i}`, Mailbox.fromPartial({ address }));
    await Promise.all(
      [healthy, throttled].map((address) =>
        started.endpoints.admin.deliverBulk(sandbox.directoryId, address ?? '', Array.from({ length: 20 }, (_, i) => ({ from: 'c@example.org', subject: `t ${i}` }))),
      ),
    );
    await waitFor(() => eventsOf(tenantId).filter((e) => e.mailboxId === 'm-0').length === 20, { timeoutMs: 30_000, description: 'healthy mailbox' });
    const deniedStatus = await waitFor(async () => {
      const status = await core.getSyncStatus(tenantId, 'm-2');
      return status.state === MailboxSyncState.MAILBOX_SYNC_STATE_ACCESS_DENIED ? status : undefined;
    });
    expect(deniedStatus.lastError?.message).toMatch(/application access policy/);
    await waitFor(() => eventsOf(tenantId).filter((e) => e.mailboxId === 'm-1').length === 20, { timeoutMs: 60_000, description: 'throttled mailbox' });
    await started.endpoints.admin.clearFaults();
    expect(new Set(eventsOf(tenantId).map((e) => e.interactionId)).size).toBe(40);
    // Only injected 429s: the sandbox never had to refuse a request for concurrency.
    // The sandbox (limit lowered to 2) never had to refuse a request for concurrency.
    expect((await started.endpoints.admin.stats(sandbox.directoryId)).throttled).toBe(0);
  });

  it('resyncs after an expired delta token without duplicates', async () => {
    const { tenantId, sandbox } = await newTenant(1);
    const address = sandbox.mailboxes[0] ?? '';
    const { core } = await startReplica(randomId('mf'), 'replica-r');
    await core.createMailbox(tenantId, 'r-0', Mailbox.fromPartial({ address }));
    await started.endpoints.admin.deliverBulk(sandbox.directoryId, address, Array.from({ length: 10 }, (_, i) => ({ from: 'c@example.org', subject: `before ${i}` })));
    await waitFor(() => eventsOf(tenantId).length === 10);
    await waitFor(async () => (await core.getSyncStatus(tenantId, 'r-0')).state === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY);
    await started.endpoints.admin.expireDeltaTokens(sandbox.directoryId, address);
    await started.endpoints.admin.deliverBulk(sandbox.directoryId, address, Array.from({ length: 5 }, (_, i) => ({ from: 'c@example.org', subject: `after ${i}` })));
    await waitFor(() => eventsOf(tenantId).length >= 15);
    await waitFor(async () => (await core.getSyncStatus(tenantId, 'r-0')).lastFullResyncAt !== undefined);
    expect(eventsOf(tenantId)).toHaveLength(15);
  });

  it('advances no delta link while Kafka is unavailable, loses nothing, and resumes by itself', async () => {
    const { tenantId, sandbox } = await newTenant(2);
    let kafkaDown = false;
    const flakyBus: EventBus = {
      ensureTopics: (topics) => bus.ensureTopics(topics),
      publish: (topic, messages) => (kafkaDown ? Promise.reject(new UnavailableError('kafka: broker unavailable')) : bus.publish(topic, messages)),
      subscribe: (options) => bus.subscribe(options),
      close: async () => undefined,
    };
    const { core, stores } = await startReplica(randomId('mf'), 'replica-k', { bus: flakyBus });
    for (const [i, address] of sandbox.mailboxes.entries()) await core.createMailbox(tenantId, `k-${i}`, Mailbox.fromPartial({ address }));
    // The first sync of an empty mailbox publishes nothing and may store its delta link: let it
    // finish, then take Kafka away. From then on no link may move until the mail is published.
    for (const id of ['k-0', 'k-1']) {
      await waitFor(async () => (await core.getSyncStatus(tenantId, id)).lastSuccessfulSyncAt !== undefined, { timeoutMs: 20_000 });
    }
    const before = await stores.cursors.list({ prefix: `${tenantId}/`, limit: 100 });
    kafkaDown = true;
    await deliverAll(sandbox, 20, 'k');
    await waitFor(async () => (await core.getSyncStatus(tenantId, 'k-0')).consecutiveFailures >= 2, { timeoutMs: 20_000 });
    await waitFor(async () => (await core.getSyncStatus(tenantId, 'k-1')).consecutiveFailures >= 2, { timeoutMs: 20_000 });
    expect(await stores.cursors.list({ prefix: `${tenantId}/`, limit: 100 })).toEqual(before);
    expect(eventsOf(tenantId)).toHaveLength(0);
    kafkaDown = false;
    await waitFor(() => eventsOf(tenantId).length >= 40, { timeoutMs: 30_000 });
    expect(new Set(eventsOf(tenantId).map((e) => e.interactionId)).size).toBe(40);
    expect(eventsOf(tenantId)).toHaveLength(40);
  });

  it('lets two replicas share mailboxes without overlap and takes a dead replica\'s mailboxes over within the lease time', async () => {
    const { tenantId, sandbox } = await newTenant(6);
    const database = randomId('mf');
    const a = await startReplica(database, 'replica-1');
    const b = await startReplica(database, 'replica-2');
    for (const [i, address] of sandbox.mailboxes.entries()) await a.core.createMailbox(tenantId, `p-${i}`, Mailbox.fromPartial({ address }));
    await waitFor(() => a.core.runtime.owned().length + b.core.runtime.owned().length === 6, { timeoutMs: 10_000 });
    const ownedA = a.core.runtime.owned();
    expect(ownedA.filter((key) => b.core.runtime.owned().includes(key))).toEqual([]);
    await deliverAll(sandbox, 10, 'p');
    await waitFor(() => eventsOf(tenantId).length >= 60, { timeoutMs: 30_000 });
    const victim = ownedA.length > 0 ? a : b;
    const survivor = victim === a ? b : a;
    await victim.core.runtime.halt();
    const killedAt = Date.now();
    await waitFor(() => survivor.core.runtime.owned().length === 6, { timeoutMs: 12_000, description: 'takeover' });
    expect(Date.now() - killedAt).toBeLessThan(4_000 + 1_500);
    await deliverAll(sandbox, 5, 'q');
    await waitFor(() => eventsOf(tenantId).length >= 90, { timeoutMs: 30_000 });
    expect(new Set(eventsOf(tenantId).map((e) => e.interactionId)).size).toBe(90);
  });
});
