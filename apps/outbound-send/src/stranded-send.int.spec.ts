import { randomUUID } from 'node:crypto';
import { ActorKind, OutboundRequest, SendKind, SendOrigin, SendState, type OutgoingMessage } from '@mailroute/contracts';
import { createMailboxLimiter } from '@mailroute/graph-mail';
import { eventKey, events, KafkaEventBus, toEventMessage } from '@mailroute/messaging';
import { MongoDocumentTable, ReplicaLiveness, type MongoStore } from '@mailroute/persistence';
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
import { createTableMailboxDirectory, mailboxConfigTableName, type MailboxConfigView } from './mailboxes/mailbox-directory';
import { createOutboundSend, type OutboundSend } from './outbound-send';
import { sendIdHeader } from './send/loop-protection';
import { sendKey } from './send/send-engine';
import { openMongoStores, type OutboundSendStores } from './store/outbound-send.stores';

type Started = Awaited<ReturnType<typeof startTestGraphSandbox>>;

/** Sends a mailbox may make per minute in this spec: the other replies use them all. */
const perMinute = 4;

/**
 * A send stranded by a replica that died mid-attempt (its attempt marker left behind before the
 * send record says anything), against the graph sandbox, FerretDB and Kafka: the mailbox's other
 * replies must not wait for it, and it must be resolved — exactly once — as soon as its owner is
 * known gone rather than after OUTBOUND_SEND_ATTEMPT_STALE_MS.
 */
describe('a send stranded by a crashed replica', () => {
  const logger = createLogger({
    name: 'stranded-send-test',
    level: (process.env['OS_TEST_LOG'] as 'info' | undefined) ?? 'silent',
  });
  const tenantId = randomId('t-stranded');
  let started: Started;
  let sandbox: SandboxMailTenant;
  let bus: KafkaEventBus;
  let stores: OutboundSendStores & { store: MongoStore };
  let service: OutboundSend;

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 2 });
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('os-stranded'), sessionTimeoutMs: 60_000 });
    stores = await openMongoStores({ url: testInfra().mongoUrl, database: randomId('os-stranded') });
    const mailboxTable = new MongoDocumentTable<MailboxConfigView>(stores.store, mailboxConfigTableName);
    for (const [i, address] of sandbox.mailboxes.entries())
      await mailboxTable.put(`${tenantId}/box-${i}`, { address, accessMode: 1, credentialsId: '', enabled: true });
    service = createOutboundSend({
      stores,
      bus,
      tokens: createSandboxTokenProvider(started.endpoints, new Map([[tenantId, sandbox]])),
      mailboxes: createTableMailboxDirectory(mailboxTable, { cacheMs: 0 }),
      logger,
      replicaId: 'survivor',
      limiter: createMailboxLimiter({ perMailbox: 1 }),
      options: {
        groupId: randomId('os-stranded'),
        fromBeginning: false,
        dueIntervalMs: 200,
        sendRatePerWindow: perMinute,
        sendRateWindowMs: 60_000,
        replicaDeadAfterMs: 5_000,
        engine: { attemptStaleMs: 180_000, rateMaxWaitMs: 170_000, backoffBaseMs: 200, backoffMaxMs: 1_000 },
      },
    });
    await service.start();
    await waitFor(() => service.assigned(), { timeoutMs: 60_000, description: 'consumer assignments' });
  });

  afterAll(async () => {
    await service?.stop();
    await bus?.close();
    await stores?.store.db.dropDatabase().catch(() => undefined);
    await stores?.close();
    await started?.sandbox.stop();
  });

  const newMessage = (subject: string): OutgoingMessage =>
    ({ subject, bodyText: subject, to: [{ address: 'ann@customer.example', name: '' }] }) as OutgoingMessage;

  function request(box: number, subject: string): OutboundRequest {
    return OutboundRequest.fromPartial({
      eventId: randomUUID(),
      tenantId,
      occurredAt: new Date(),
      sendId: randomUUID(),
      idempotencyKey: randomId('k'),
      kind: SendKind.SEND_KIND_NEW,
      mailboxId: `box-${box}`,
      mailboxAddress: sandbox.mailboxes[box] as string,
      content: newMessage(subject),
      requestedBy: { kind: ActorKind.ACTOR_KIND_AGENT, id: 'agent-1', displayName: '' },
    });
  }

  /** What a replica leaves when it dies after claiming attempt 1 and before recording anything of it. */
  async function strand(box: number, owner: { replicaId: string; instance: string }): Promise<OutboundRequest> {
    const stranded = request(box, `Stranded on box-${box}`);
    await service.engine.intake(stranded, SendOrigin.SEND_ORIGIN_AGENT);
    await stores.attempts.insert(`${sendKey(tenantId, stranded.sendId)}/1`, {
      owner: owner.replicaId,
      instance: owner.instance,
      at: Date.now(),
    });
    await service.engine.enqueue(tenantId, stranded.sendId);
    return stranded;
  }

  const state = async (sendId: string) => (await stores.sends.get(sendKey(tenantId, sendId)))?.state;

  async function sentCopies(box: number, sendId: string): Promise<number> {
    const sent = (await started.endpoints.admin.sent(sandbox.directoryId, sandbox.mailboxes[box] as string)).value;
    return sent.filter((record) =>
      record.internetMessageHeaders.some((header) => header.name.toLowerCase() === sendIdHeader && header.value === sendId),
    ).length;
  }

  it("sends the mailbox's other replies at once (the stranded send takes no send slot) and resolves it exactly once when its owner's heartbeat stops", async () => {
    // The owner just crashed: its last heartbeat is fresh, so for a while it looks alive.
    const crashed = new ReplicaLiveness(stores.replicas, 'crashed-replica', 5_000, Date.now);
    await crashed.beat();
    const owner = { replicaId: crashed.replicaId, instance: crashed.incarnation };
    const stranded = await strand(0, owner);
    const others = Array.from({ length: perMinute }, (_, i) => request(0, `Reply ${i}`));
    for (const other of others)
      await bus.publish(
        events.outboundRequest.topic,
        toEventMessage('outboundRequest', eventKey(tenantId, other.mailboxId), other),
      );

    // Every send slot of the minute is the other replies': a stranded try that took one would hold a reply back ~60 s.
    await waitFor(
      async () => (await Promise.all(others.map((other) => state(other.sendId)))).every((s) => s === SendState.SEND_STATE_SENT),
      { timeoutMs: 30_000, intervalMs: 200, description: 'the other replies SENT' },
    );
    // Then the owner is gone (no heartbeat for 5 s), long before the 180 s marker staleness: resolved through Sent Items, sent once.
    await waitFor(async () => (await state(stranded.sendId)) === SendState.SEND_STATE_SENT, {
      timeoutMs: 40_000,
      intervalMs: 200,
      description: 'the stranded send SENT',
    });
    expect(await sentCopies(0, stranded.sendId)).toBe(1);
    for (const other of others) expect(await sentCopies(0, other.sendId)).toBe(1);
  });

  it('resolves at once an attempt stranded by a replica that restarted under the same id, and sends it exactly once', async () => {
    const replicaId = 'restarted-replica';
    const before = randomUUID();
    const stranded = request(1, 'Stranded before a restart');
    await service.engine.intake(stranded, SendOrigin.SEND_ORIGIN_AGENT);
    await stores.attempts.insert(`${sendKey(tenantId, stranded.sendId)}/1`, {
      owner: replicaId,
      instance: before,
      at: Date.now(),
    });
    // The replica is alive again as another instance, beating: only the instance tells the stranded attempt is dead.
    const restarted = new ReplicaLiveness(stores.replicas, replicaId, 5_000, Date.now);
    await restarted.beat();
    restarted.keepBeating(500);
    try {
      await service.engine.enqueue(tenantId, stranded.sendId);
      await waitFor(async () => (await state(stranded.sendId)) === SendState.SEND_STATE_SENT, {
        timeoutMs: 30_000,
        intervalMs: 200,
        description: 'the stranded send SENT',
      });
    } finally {
      await restarted.stop();
    }
    expect(await sentCopies(1, stranded.sendId)).toBe(1);
  });
});
