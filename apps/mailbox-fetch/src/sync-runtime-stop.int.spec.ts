import { Mailbox, type InboundEmail } from '@mailroute/contracts';
import { createGraphMailClient, createMailboxLimiter, type GraphMailClient } from '@mailroute/graph-mail';
import { events, fromEventMessage, KafkaEventBus, type Subscription } from '@mailroute/messaging';
import { createLogger, createShutdown } from '@mailroute/platform';
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

/** More mailboxes than turn slots (32), so every slot holds a turn when the replica is stopped. */
const mailboxCount = 40;
/** Graph answers this slowly while the replica stops: longer than the platform's 15 s shutdown step. */
const slowGraphMs = 25_000;

type Started = Awaited<ReturnType<typeof startTestGraphSandbox>>;

describe('stopping the sync runtime with turns in flight (graph sandbox, FerretDB, Kafka)', () => {
  const logger = createLogger({ name: 'mf-stop-test', level: (process.env['MF_TEST_LOG'] as 'info' | undefined) ?? 'silent' });
  let started: Started;
  let bus: KafkaEventBus;
  let subscription: Subscription;
  const received: InboundEmail[] = [];
  const sandboxTenants = new Map<string, SandboxMailTenant>();
  const opened: { stores: MailboxFetchStores; core: MailboxFetchCore }[] = [];

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('mf-stop') });
    await bus.ensureTopics([{ topic: events.inboundEmail.topic, partitions: 8 }]);
    subscription = await bus.subscribe({
      groupId: randomId('mf-stop-consumer'),
      topics: [events.inboundEmail.topic],
      fromBeginning: false,
      handler: async (message) => {
        received.push(fromEventMessage('inboundEmail', message));
      },
    });
    await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 30_000, description: 'consumer assignment' });
  }, 120_000);

  afterAll(async () => {
    await started.endpoints.admin.clearFaults().catch(() => undefined);
    for (const { core, stores } of opened) {
      await core.runtime.stop().catch(() => undefined);
      await stores.close().catch(() => undefined);
    }
    await subscription.close({ graceMs: 0 });
    await bus.close();
    await started.sandbox.stop();
  }, 120_000);

  async function startReplica(database: string, replicaId: string, graph: GraphMailClient) {
    const stores = await openMongoStores({ url: testInfra().mongoUrl, database });
    const core = createMailboxFetchCore({
      stores,
      graph,
      bus,
      logger,
      replicaId,
      // A long lease: only the stop's release (or its liveness mark) lets the next replica in soon.
      options: { leaseTtlMs: 60_000, scanIntervalMs: 300, pollIntervalCapMs: 300, maxPagesPerTurn: 2 },
    });
    opened.push({ stores, core });
    core.runtime.start();
    return core;
  }

  const graphClient = () =>
    createGraphMailClient({
      tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants),
      limiter: createMailboxLimiter({ perMailbox: 2 }),
      logger,
    });

  function deliver(sandbox: SandboxMailTenant, tag: string) {
    return Promise.all(
      sandbox.mailboxes.map((address, box) =>
        started.endpoints.admin.deliverBulk(sandbox.directoryId, address, [
          { from: 'customer@example.org', subject: `${tag} ${box}`, body: `${tag} mail of box ${box}` },
        ]),
      ),
    );
  }

  it('stops within the shutdown step while every turn slot waits on Graph, and loses or doubles no mail after a restart', async () => {
    const tenantId = randomId('tenant');
    const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount });
    sandboxTenants.set(tenantId, sandbox);
    const eventsOf = () => received.filter((event) => event.tenantId === tenantId);
    const database = randomId('mf-stop');
    const graphA = graphClient();
    const replicaA = await startReplica(database, 'replica-a', graphA);
    for (const [i, address] of sandbox.mailboxes.entries())
      await replicaA.createMailbox(tenantId, `box-${i}`, Mailbox.fromPartial({ address }));
    await deliver(sandbox, 'before');
    await waitFor(() => eventsOf().length >= mailboxCount, { timeoutMs: 120_000, description: 'mail before the stop' });

    // Graph turns slow; more mail arrives; every turn slot fills with a delta round waiting on Graph.
    await started.endpoints.admin.addFault({
      tenantId: sandbox.directoryId,
      latency: { distribution: 'fixed', ms: slowGraphMs },
    });
    await deliver(sandbox, 'during');
    await waitFor(() => graphA.limiter.inFlight() >= 15, { timeoutMs: 60_000, description: 'turns in flight' });

    // The platform's own shutdown step (15 s budget): a step that outlasts it makes the process exit 1.
    const shutdown = createShutdown(logger, [{ name: 'sync runtime', run: () => replicaA.runtime.stop() }]);
    expect(await shutdown.run('test')).toEqual({ ok: true });
    expect(replicaA.runtime.owned()).toEqual([]);
    expect(graphA.limiter.inFlight()).toBe(0);

    // A restart on the same store with Graph back to normal: the mail of both rounds, each exactly once.
    await started.endpoints.admin.clearFaults();
    await startReplica(database, 'replica-b', graphClient());
    await waitFor(() => eventsOf().length >= 2 * mailboxCount, { timeoutMs: 120_000, description: 'mail after the restart' });
    const subjects = eventsOf()
      .map((event) => event.message?.subject ?? '')
      .sort();
    const expected = ['before', 'during'].flatMap((tag) => Array.from({ length: mailboxCount }, (_, box) => `${tag} ${box}`));
    expect(subjects).toEqual(expected.sort());
    expect(new Set(eventsOf().map((event) => event.interactionId)).size).toBe(2 * mailboxCount);
  }, 400_000);
});
