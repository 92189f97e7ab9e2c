import { randomBytes, randomUUID } from 'node:crypto';
import { Metadata } from 'nice-grpc';
import { MongoClient } from 'mongodb';
import {
  ActorKind,
  AuthBrokerServiceDefinition,
  AuthorityCloud,
  OutboundRequest,
  ReplyMode,
  SendKind,
  SendState,
  type OutgoingMessage,
} from '@mailroute/contracts';
import { eventKey, events, KafkaEventBus, toEventMessage } from '@mailroute/messaging';
import { MongoDocumentTable, MongoStore } from '@mailroute/persistence';
import { createGrpcClient, hashBearerCredential } from '@mailroute/platform';
import {
  createSandboxMailTenant,
  randomId,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  type SandboxMailTenant,
  type ServiceProcess,
} from '@mailroute/testing';
import { mailboxConfigTableName, type MailboxConfigView } from './mailboxes/mailbox-directory';
import { sendIdHeader } from './send/loop-protection';
import { isFinalState } from './send/send-engine';
import type { SendRecord } from './store/outbound-send.stores';

type Started = Awaited<ReturnType<typeof startTestGraphSandbox>>;

/** Sends and kills (OUTBOUND_SEND_TEST_CRASH_SENDS, default 24; OUTBOUND_SEND_TEST_KILLS, default 3). */
const sendCount = Number(process.env['OUTBOUND_SEND_TEST_CRASH_SENDS'] ?? 24); // room for 3 kills: several sends may go out between two looks (a restarted replica now resolves the stranded send and sends on at once)
const killCount = Number(process.env['OUTBOUND_SEND_TEST_KILLS'] ?? 3);

/**
 * The real outbound-send process (main.ts), with tokens from a real auth-broker process (MSAL
 * against the sandbox over HTTPS), Kafka and FerretDB, is SIGKILLed right after Graph accepted a
 * send and before the service recorded it — repeatedly. Every request must end with exactly one
 * message in the mailbox's sent log.
 */
describe('outbound-send killed between the Graph send and recording it', () => {
  let started: Started;
  let broker: ServiceProcess;
  let sender: ServiceProcess | undefined;
  let bus: KafkaEventBus;
  let store: MongoStore;
  let sandbox: SandboxMailTenant;
  const database = randomId('os-crash');
  const brokerDatabase = randomId('os-crash-ab');
  const tenantId = randomId('tenant');
  const apiKey = `mrk_${randomBytes(16).toString('hex')}`;
  const serviceToken = `mrs_${randomBytes(16).toString('hex')}`;
  let senderEnv: Record<string, string>;

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    broker = startServiceProcess('apps/auth-broker/src/main.ts', {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      NODE_EXTRA_CA_CERTS: started.endpoints.caCertPath,
      AUTH_BROKER_STORE: 'mongodb',
      AUTH_BROKER_MONGODB_URL: testInfra().mongoUrl,
      AUTH_BROKER_MONGODB_DATABASE: brokerDatabase,
      AUTH_BROKER_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      AUTH_BROKER_API_KEYS: `wm:${tenantId}:credentials.read+credentials.write:${hashBearerCredential(apiKey)}`,
      AUTH_BROKER_SERVICE_TOKENS: `outbound-send:${hashBearerCredential(serviceToken)}`,
      AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: started.endpoints.baseUrl,
      AUTH_BROKER_METRICS_PORT: '0',
    });
    sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 2 });
    const admin = createGrpcClient(AuthBrokerServiceDefinition, `127.0.0.1:${await broker.port()}`, { deadlineMs: 60_000 });
    try {
      await admin.client.createTenantCredentials(
        {
          credentialsId: '',
          spec: {
            displayName: 'crash test',
            directoryId: sandbox.directoryId,
            clientId: sandbox.clientId,
            cloud: AuthorityCloud.AUTHORITY_CLOUD_CUSTOM,
            authorityHost: started.endpoints.baseUrl,
            graphEndpoint: started.endpoints.baseUrl,
            credential: {
              $case: 'clientSecret',
              value: { value: sandbox.clientSecret, expiresAt: new Date(Date.now() + 90 * 86_400_000) },
            },
          },
        },
        { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
      );
    } finally {
      admin.close();
    }
    store = await MongoStore.connect({ url: testInfra().mongoUrl, database, appName: 'outbound-send-test' });
    const mailboxes = new MongoDocumentTable<MailboxConfigView>(store, mailboxConfigTableName);
    for (const [i, address] of sandbox.mailboxes.entries())
      await mailboxes.put(`${tenantId}/box-${i}`, { address, accessMode: 1, credentialsId: '', enabled: true });
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('os-crash') });
    await bus.ensureTopics(
      [events.outboundRequest, events.outboundResult, events.inboundEmail].map((event) => ({
        topic: event.topic,
        partitions: 8,
      })),
    );
    senderEnv = {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      NODE_EXTRA_CA_CERTS: started.endpoints.caCertPath,
      OUTBOUND_SEND_STORE: 'mongodb',
      OUTBOUND_SEND_MONGODB_URL: testInfra().mongoUrl,
      OUTBOUND_SEND_MONGODB_DATABASE: database,
      OUTBOUND_SEND_KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
      OUTBOUND_SEND_CONSUMER_GROUP: randomId('os-crash'),
      OUTBOUND_SEND_CONSUMER_FROM_BEGINNING: 'false',
      OUTBOUND_SEND_AUTH_BROKER_ADDRESS: `127.0.0.1:${await broker.port()}`,
      OUTBOUND_SEND_AUTH_BROKER_TOKEN: serviceToken,
      OUTBOUND_SEND_METRICS_PORT: '0',
      OUTBOUND_SEND_TEST_PAUSE_AFTER_SEND_MS: '2000',
      OUTBOUND_SEND_ATTEMPT_STALE_MS: '1000',
      OUTBOUND_SEND_BACKOFF_BASE_MS: '200',
      // A killed consumer stays in the group until its session ends; the restart waits for that.
      OUTBOUND_SEND_KAFKA_SESSION_TIMEOUT_MS: '6000',
    };
  });

  afterAll(async () => {
    await sender?.stop('SIGKILL');
    await broker?.stop();
    await bus?.close();
    await store?.close();
    const client = await MongoClient.connect(testInfra().mongoUrl);
    await client
      .db(database)
      .dropDatabase()
      .catch(() => undefined);
    await client
      .db(brokerDatabase)
      .dropDatabase()
      .catch(() => undefined);
    await client.close();
    await started?.sandbox.stop();
  });

  const sends = () => new MongoDocumentTable<SendRecord>(store, 'os_sends');

  async function sentCopies(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const address of sandbox.mailboxes) {
      for (const record of (await started.endpoints.admin.sent(sandbox.directoryId, address)).value) {
        const id = record.internetMessageHeaders.find((header) => header.name.toLowerCase() === sendIdHeader)?.value;
        if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
    return counts;
  }

  async function publish(request: Partial<OutboundRequest> & { mailboxId: string }) {
    const full = OutboundRequest.fromPartial({
      eventId: randomUUID(),
      tenantId,
      occurredAt: new Date(),
      sendId: randomUUID(),
      idempotencyKey: randomId('k'),
      requestedBy: { kind: ActorKind.ACTOR_KIND_AGENT, id: 'agent-1', displayName: '' },
      ...request,
    });
    await bus.publish(events.outboundRequest.topic, toEventMessage('outboundRequest', eventKey(tenantId, full.mailboxId), full));
    return full;
  }

  it(`ends each of ${sendCount} requests with exactly one sent message through ${killCount} SIGKILLs after the send`, async () => {
    try {
      await run();
    } catch (error) {
      // The service's own log explains a failure here.
      throw new Error(
        `${(error as Error).message}\n--- outbound-send output (last 40 lines) ---\n${sender?.output.slice(-40).join('\n')}`,
        { cause: error },
      );
    }
  }, 150_000);

  async function run() {
    sender = startServiceProcess('apps/outbound-send/src/main.ts', senderEnv);
    await sender.port();
    // The consumer group starts at the latest offset: probe until a request is consumed.
    await waitFor(
      async () => {
        const probe = await publish({
          mailboxId: 'no-such-mailbox',
          kind: SendKind.SEND_KIND_NEW,
          content: { subject: 'probe', bodyText: 'probe', to: [{ address: 'p@customer.example', name: '' }] } as OutgoingMessage,
        });
        return waitFor(() => sends().get(`${tenantId}/${probe.sendId}`), { timeoutMs: 3_000, intervalMs: 100 }).catch(
          () => undefined,
        );
      },
      { timeoutMs: 60_000, intervalMs: 0, description: 'outbound-send consuming' },
    );
    const requests: OutboundRequest[] = [];
    for (let i = 0; i < sendCount; i += 1) {
      const box = i % 2;
      if (i % 4 < 2) {
        const original = await started.endpoints.admin.deliver(sandbox.directoryId, sandbox.mailboxes[box] as string, {
          from: { address: `c${i}@customer.example` },
          subject: `Question ${i}`,
          body: 'help',
        });
        requests.push(
          await publish({
            mailboxId: `box-${box}`,
            mailboxAddress: sandbox.mailboxes[box] as string,
            kind: SendKind.SEND_KIND_REPLY,
            replyMode: ReplyMode.REPLY_MODE_REPLY,
            interactionId: randomUUID(),
            replyToGraphMessageId: original.immutableId,
            content: { bodyText: `Answer ${i}` } as OutgoingMessage,
          }),
        );
      } else {
        requests.push(
          await publish({
            mailboxId: `box-${box}`,
            mailboxAddress: sandbox.mailboxes[box] as string,
            kind: SendKind.SEND_KIND_NEW,
            content: {
              subject: `Notice ${i}`,
              bodyText: `Notice ${i}`,
              to: [{ address: `c${i}@customer.example`, name: '' }],
            } as OutgoingMessage,
          }),
        );
      }
    }
    const ids = new Set(requests.map((request) => request.sendId));
    const outOf = (counts: Map<string, number>) =>
      [...counts].filter(([id]) => ids.has(id)).reduce((total, [, n]) => total + n, 0);

    let kills = 0;
    let caughtInWindow = 0;
    while (kills < killCount) {
      const before = outOf(await sentCopies());
      if (before >= sendCount) break;
      // Graph accepted one more send: the service now pauses before recording it. Kill it there.
      await waitFor(async () => outOf(await sentCopies()) > before, {
        timeoutMs: 60_000,
        intervalMs: 20,
        description: 'the next send',
      });
      await sender.stop('SIGKILL');
      kills += 1;
      const counts = await sentCopies();
      for (const id of ids) {
        const record = await sends().get(`${tenantId}/${id}`);
        if ((counts.get(id) ?? 0) > 0 && record?.state !== SendState.SEND_STATE_SENT) caughtInWindow += 1;
      }
      sender = startServiceProcess('apps/outbound-send/src/main.ts', senderEnv);
      await sender.port();
    }

    const finals = await waitFor(
      async () => {
        const records = await Promise.all(requests.map((request) => sends().get(`${tenantId}/${request.sendId}`)));
        return records.every((record) => record !== undefined && isFinalState(record.state)) ? records : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200, description: 'every send final' },
    );
    expect(finals.map((record) => record?.failure)).toEqual(requests.map(() => undefined));
    expect(finals.map((record) => record?.state)).toEqual(requests.map(() => SendState.SEND_STATE_SENT));
    const counts = await sentCopies();
    expect(requests.map((request) => counts.get(request.sendId) ?? 0)).toEqual(requests.map(() => 1));
    // At least 3 kills (the default asks for exactly 3); a larger OUTBOUND_SEND_TEST_KILLS may run out of sends first.
    expect(kills).toBeGreaterThanOrEqual(Math.min(killCount, 3));
    // Each kill landed after Graph accepted a send that was not recorded yet.
    expect(caughtInWindow).toBeGreaterThanOrEqual(killCount);
  }
});
