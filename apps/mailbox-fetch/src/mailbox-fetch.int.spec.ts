import { Mailbox, MailboxSyncState, PostProcessingAction, type InboundEmail } from '@mailroute/contracts';
import { createGraphMailClient, createMailboxLimiter, type GraphMailClient } from '@mailroute/graph-mail';
import { events, fromEventMessage, KafkaEventBus, type EventBus, type Subscription } from '@mailroute/messaging';
import { createLogger } from '@mailroute/platform';
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

/**
 * E-mails of the intake test over 20 mailboxes: 200 by default so the suite stays quick on a
 * loaded CI machine; the acceptance size is MAILBOX_FETCH_TEST_EMAILS=1000.
 */
const totalEmails = Number(process.env['MAILBOX_FETCH_TEST_EMAILS'] ?? 200);
const mailboxCount = 20;

type Started = Awaited<ReturnType<typeof startTestGraphSandbox>>;

describe('mailbox-fetch intake against the graph sandbox, FerretDB and Kafka', () => {
  const logger = createLogger({
    name: 'mailbox-fetch-test',
    level: (process.env['MF_TEST_LOG'] as 'info' | undefined) ?? 'silent',
  });
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
    graph ??= createGraphMailClient({
      tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants),
      limiter: createMailboxLimiter({ perMailbox: 3 }),
      deltaPageSize: 25,
      logger,
    });
    return graph;
  }

  async function startReplica(
    database: string,
    replicaId: string,
    options: { bus?: EventBus; graph?: GraphMailClient; leaseTtlMs?: number } = {},
  ) {
    const stores = await openMongoStores({ url: testInfra().mongoUrl, database });
    const core = createMailboxFetchCore({
      stores,
      graph: options.graph ?? graphClient(),
      bus: options.bus ?? bus,
      logger,
      replicaId,
      options: {
        leaseTtlMs: options.leaseTtlMs ?? 4_000,
        scanIntervalMs: 300,
        pollIntervalCapMs: 300,
        errorBackoffBaseMs: 200,
        errorBackoffMaxMs: 1_000,
        maxPagesPerTurn: 2,
      },
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
          Array.from({ length: perMailbox }, (_, i) => ({
            from: `customer${i}@example.org`,
            subject: `${tag} ${box}-${String(i).padStart(4, '0')}`,
            body: `hello ${i}`,
          })),
        ),
      ),
    );
  }

  it(
    `ingests ${totalEmails} emails over ${mailboxCount} mailboxes exactly once and in order per mailbox`,
    async () => {
      const { tenantId, sandbox } = await newTenant(mailboxCount);
      const database = randomId('mf');
      // A long lease: two shared cores run the sandbox, Kafka, FerretDB and this test under full load.
      const { core, stores } = await startReplica(database, 'replica-a', { leaseTtlMs: 20_000 });
      for (const [i, address] of sandbox.mailboxes.entries())
        await core.createMailbox(tenantId, `box-${i}`, Mailbox.fromPartial({ address }));
      const perMailbox = Math.ceil(totalEmails / mailboxCount);
      const begun = Date.now();
      await deliverAll(sandbox, perMailbox, 'mail');
      await waitFor(() => eventsOf(tenantId).length >= perMailbox * mailboxCount, {
        timeoutMs: Math.max(60_000, totalEmails * 200),
        description: 'all events',
      });
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
      const status = await waitFor(
        async () => {
          const saved = await core.getSyncStatus(tenantId, 'box-0');
          // (and under heavy load a stalled renewal may let the lease lapse until the next scan takes it back)
          return saved.state === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY &&
            saved.messagesIngestedTotal >= perMailbox &&
            saved.leaseOwner === 'replica-a'
            ? saved
            : undefined;
        },
        { timeoutMs: 45_000, description: 'box-0 status saved' },
      );
      expect(status).toMatchObject({
        state: MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY,
        messagesIngestedTotal: perMailbox,
        leaseOwner: 'replica-a',
      });
      // Marked read: the next rounds see the updates and ingest nothing again.
      const folder = await started.endpoints.admin.folderMessages(sandbox.directoryId, sandbox.mailboxes[0] ?? '', 'inbox');
      await waitFor(
        async () =>
          (await started.endpoints.admin.folderMessages(sandbox.directoryId, sandbox.mailboxes[0] ?? '', 'inbox')).value.every(
            (m) => m.isRead,
          ),
        { timeoutMs: 20_000 },
      );
      expect(folder.value.length).toBe(perMailbox);
      expect(eventsOf(tenantId)).toHaveLength(perMailbox * mailboxCount);
    },
    Math.max(120_000, totalEmails * 200 + 60_000),
  );

  it('slows only a hard-throttled mailbox, loses nothing there, and never exceeds the concurrency limit; a mailbox outside the access policy shows ACCESS_DENIED while the rest flow', async () => {
    const { tenantId, sandbox } = await newTenant(4);
    const [healthy, throttled, denied] = sandbox.mailboxes;
    await started.endpoints.admin.createAccessPolicy(sandbox.directoryId, {
      appId: sandbox.clientId,
      accessRight: 'DenyAccess',
      policyScopeGroupId: `blocked@${sandbox.domain}`,
      members: [denied ?? ''],
    });
    await started.endpoints.admin.setThrottling(sandbox.directoryId, {
      maxConcurrentRequests: 2,
      concurrencyRetryAfterSeconds: 1,
    });
    await started.endpoints.admin.addFault({
      tenantId: sandbox.directoryId,
      mailbox: throttled ?? '',
      endpoint: 'messages.*',
      status: 429,
      retryAfterSeconds: 1,
      probability: 0.15,
    });
    await started.endpoints.admin.addFault({
      tenantId: sandbox.directoryId,
      mailbox: throttled ?? '',
      endpoint: 'messages.get',
      latency: { distribution: 'fixed', ms: 30 },
    });
    const { core } = await startReplica(randomId('mf'), 'replica-t', {
      graph: createGraphMailClient({
        tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants),
        limiter: createMailboxLimiter({ perMailbox: 2 }),
        logger,
      }),
    });
    for (const [i, address] of [healthy, throttled, denied].entries())
      await core.createMailbox(tenantId, `m-${i}`, Mailbox.fromPartial({ address }));
    await Promise.all(
      [healthy, throttled].map((address) =>
        started.endpoints.admin.deliverBulk(
          sandbox.directoryId,
          address ?? '',
          Array.from({ length: 20 }, (_, i) => ({ from: 'c@example.org', subject: `t ${i}` })),
        ),
      ),
    );
    await waitFor(() => eventsOf(tenantId).filter((e) => e.mailboxId === 'm-0').length === 20, {
      timeoutMs: 30_000,
      description: 'healthy mailbox',
    });
    const deniedStatus = await waitFor(
      async () => {
        const status = await core.getSyncStatus(tenantId, 'm-2');
        return status.state === MailboxSyncState.MAILBOX_SYNC_STATE_ACCESS_DENIED ? status : undefined;
      },
      { timeoutMs: 30_000, description: 'ACCESS_DENIED state' },
    );
    expect(deniedStatus.lastError?.message).toMatch(/application access policy/);
    await waitFor(() => eventsOf(tenantId).filter((e) => e.mailboxId === 'm-1').length === 20, {
      timeoutMs: 60_000,
      description: 'throttled mailbox',
    });
    await started.endpoints.admin.clearFaults();
    expect(new Set(eventsOf(tenantId).map((e) => e.interactionId)).size).toBe(40);
    // Only injected 429s: the sandbox never had to refuse a request for concurrency.
    // The sandbox (limit lowered to 2) never had to refuse a request for concurrency.
    expect((await started.endpoints.admin.stats(sandbox.directoryId)).throttled).toBe(0);
  });

  it('marks read and moves every e-mail that arrived during a Graph 503/429 window on mark-read and move, also when the replica is replaced meanwhile', async () => {
    const { tenantId, sandbox } = await newTenant(2);
    const [readBox, moveBox] = sandbox.mailboxes;
    const database = randomId('mf-post');
    const first = await startReplica(database, 'replica-p1');
    await first.core.createMailbox(tenantId, 'p-read', Mailbox.fromPartial({ address: readBox }));
    await first.core.createMailbox(
      tenantId,
      'p-move',
      Mailbox.fromPartial({
        address: moveBox,
        postProcessing: {
          action: PostProcessingAction.POST_PROCESSING_ACTION_MARK_READ_AND_MOVE,
          moveTo: { folder: { $case: 'path', value: 'Processed' } },
        },
      }),
    );
    await waitFor(
      async () =>
        (await first.core.listSyncStatuses(tenantId, 0, undefined, 10)).statuses.every(
          (s) => s.lastSuccessfulSyncAt !== undefined,
        ),
      { timeoutMs: 30_000, description: 'first sync' },
    );

    // The fault window: every mark-read answers 503, every move 429; reads and delta still work.
    await started.endpoints.admin.addFault({ tenantId: sandbox.directoryId, endpoint: 'messages.update', status: 503 });
    await started.endpoints.admin.addFault({
      tenantId: sandbox.directoryId,
      endpoint: 'messages.move',
      status: 429,
      retryAfterSeconds: 1,
    });
    const perMailbox = 6;
    await Promise.all(
      [readBox, moveBox].map((address) =>
        started.endpoints.admin.deliverBulk(
          sandbox.directoryId,
          address ?? '',
          Array.from({ length: perMailbox }, (_, i) => ({ from: 'c@example.org', subject: `fault window ${i}` })),
        ),
      ),
    );
    await waitFor(() => eventsOf(tenantId).length >= 2 * perMailbox, {
      timeoutMs: 60_000,
      description: 'events of the fault window',
    });
    // The turns that published them ended (their post-processing was tried, and failed).
    const publishedAt = Date.now();
    await waitFor(
      async () =>
        (await first.core.listSyncStatuses(tenantId, 0, undefined, 10)).statuses.every(
          (s) => (s.lastSuccessfulSyncAt?.getTime() ?? 0) > publishedAt,
        ),
      { timeoutMs: 30_000, description: 'a round completed after the events' },
    );
    // Replaced while the window lasts: the next replica finds the work where the first left it.
    await first.core.runtime.stop();
    await started.endpoints.admin.clearFaults();
    const second = await startReplica(database, 'replica-p2');

    const inbox = (address: string | undefined) =>
      started.endpoints.admin.folderMessages(sandbox.directoryId, address ?? '', 'inbox');
    const processed = async () => {
      const folder = (await started.endpoints.admin.folders(sandbox.directoryId, moveBox ?? '')).value.find(
        (f) => f.displayName === 'Processed',
      );
      return folder ? (await started.endpoints.admin.folderMessages(sandbox.directoryId, moveBox ?? '', folder.id)).value : [];
    };
    await waitFor(async () => (await inbox(readBox)).value.every((m) => m.isRead), {
      timeoutMs: 60_000,
      description: 'mark-read applied after the window',
    });
    await waitFor(async () => (await processed()).length === perMailbox && (await inbox(moveBox)).value.length === 0, {
      timeoutMs: 60_000,
      description: 'moves applied after the window',
    });
    expect((await inbox(readBox)).value.map((m) => m.isRead)).toEqual(Array.from({ length: perMailbox }, () => true));
    expect((await processed()).map((m) => m.isRead)).toEqual(Array.from({ length: perMailbox }, () => true));
    // Done work is removed from the store.
    await waitFor(async () => (await second.stores.postProcessing.list({ prefix: `${tenantId}/`, limit: 100 })).length === 0, {
      timeoutMs: 10_000,
      description: 'work removed',
    });
    expect(new Set(eventsOf(tenantId).map((e) => e.interactionId)).size).toBe(2 * perMailbox);
  });

  it('resyncs after an expired delta token without duplicates', async () => {
    const { tenantId, sandbox } = await newTenant(1);
    const address = sandbox.mailboxes[0] ?? '';
    const { core, stores } = await startReplica(randomId('mf'), 'replica-r');
    await core.createMailbox(tenantId, 'r-0', Mailbox.fromPartial({ address }));
    await started.endpoints.admin.deliverBulk(
      sandbox.directoryId,
      address,
      Array.from({ length: 10 }, (_, i) => ({ from: 'c@example.org', subject: `before ${i}` })),
    );
    await waitFor(() => eventsOf(tenantId).length === 10, { timeoutMs: 30_000, description: 'first 10 events' });
    // The round that published them is saved as HEALTHY only after its events are out.
    await waitFor(async () => (await core.getSyncStatus(tenantId, 'r-0')).state === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY, {
      timeoutMs: 30_000,
      description: 'healthy',
    });
    // Quiet polls keep the stored delta link (no cursor write per poll): once the mark-read changes
    // were read, two more completed rounds leave the cursors as they were.
    const rounds = async (count: number) => {
      const from = (await core.getSyncStatus(tenantId, 'r-0')).lastSuccessfulSyncAt?.getTime() ?? 0;
      let seen = from;
      let completed = 0;
      await waitFor(
        async () => {
          const at = (await core.getSyncStatus(tenantId, 'r-0')).lastSuccessfulSyncAt?.getTime() ?? 0;
          if (at > seen) [seen, completed] = [at, completed + 1];
          return completed >= count;
        },
        { timeoutMs: 30_000, intervalMs: 50, description: `${count} more rounds` },
      );
    };
    await rounds(2);
    const quietCursors = await stores.cursors.list({ prefix: `${tenantId}/`, limit: 100 });
    await rounds(2);
    expect(await stores.cursors.list({ prefix: `${tenantId}/`, limit: 100 })).toEqual(quietCursors);
    await started.endpoints.admin.expireDeltaTokens(sandbox.directoryId, address);
    await started.endpoints.admin.deliverBulk(
      sandbox.directoryId,
      address,
      Array.from({ length: 5 }, (_, i) => ({ from: 'c@example.org', subject: `after ${i}` })),
    );
    await waitFor(() => eventsOf(tenantId).length >= 15, { timeoutMs: 30_000, description: '15 events' });
    await waitFor(async () => (await core.getSyncStatus(tenantId, 'r-0')).lastFullResyncAt !== undefined, {
      timeoutMs: 30_000,
      description: 'resync recorded',
    });
    expect(eventsOf(tenantId)).toHaveLength(15);
  });
});
