import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { ActorKind, OutboundRequest, ReplyMode, SendKind, SendState, type OutgoingMessage } from '@mailroute/contracts';
import { eventKey, events, KafkaEventBus, toEventMessage } from '@mailroute/messaging';
import { MongoDocumentTable, MongoStore } from '@mailroute/persistence';
import {
  createSandboxMailTenant,
  randomId,
  startAuthBrokerProcess,
  startRecordingProxy,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  type AuthBrokerProcess,
  type RecordedRequest,
  type RecordingProxy,
  type SandboxMailTenant,
  type ServiceProcess,
} from '@mailroute/testing';
import { mailboxConfigTableName, type MailboxConfigView } from './mailboxes/mailbox-directory';
import { sendIdHeader } from './send/loop-protection';
import { isFinalState } from './send/send-engine';
import type { SendRecord } from './store/outbound-send.stores';

// Enterprises often let Microsoft endpoints out only through an HTTPS proxy. outbound-send takes it
// the way every service does (deploy/README.md "Outbound proxy"): Node 24's NODE_USE_ENV_PROXY=1 with
// HTTPS_PROXY. The real outbound-send process (tokens from a real auth-broker process, Kafka, FerretDB)
// sends its Graph calls to the graph sandbox through an HTTP CONNECT proxy, and a send made while the
// proxy is down is retried until the proxy is back, not lost and not sent twice.
describe('outbound-send behind an HTTPS proxy (HTTPS_PROXY, NODE_USE_ENV_PROXY=1)', () => {
  const workDir = mkdtempSync(path.join(tmpdir(), 'outbound-send-proxy-'));
  const certDir = path.join(workDir, 'certs');
  const database = randomId('os-proxy');
  const tenantId = randomId('tenant');
  const serviceToken = `mrs_${randomBytes(16).toString('hex')}`;
  const requests: RecordedRequest[] = [];
  let started: Awaited<ReturnType<typeof startTestGraphSandbox>>;
  let proxy: RecordingProxy | undefined;
  let proxyPort: number;
  let broker: AuthBrokerProcess;
  let sender: ServiceProcess;
  let bus: KafkaEventBus;
  let store: MongoStore;
  let sandbox: SandboxMailTenant;

  beforeAll(async () => {
    started = await startTestGraphSandbox({ certDir });
    proxy = await startRecordingProxy({ label: 'outbound-send', upstream: started.endpoints.baseUrl, certDir, requests });
    proxyPort = Number(new URL(proxy.url).port);
    broker = await startAuthBrokerProcess({
      endpoints: started.endpoints,
      workDir: mkdtempSync(path.join(workDir, 'broker-')),
      apiKeys: { [tenantId]: `mrk_${randomId('key')}` },
      serviceTokens: { 'outbound-send': serviceToken },
    });
    sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 1 });
    await broker.addSandboxCredentials(tenantId, sandbox);
    store = await MongoStore.connect({ url: testInfra().mongoUrl, database, appName: 'outbound-send-proxy-test' });
    await new MongoDocumentTable<MailboxConfigView>(store, mailboxConfigTableName).put(`${tenantId}/box-0`, {
      address: sandbox.mailboxes[0] as string,
      accessMode: 1,
      credentialsId: 'default',
      enabled: true,
    });
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('os-proxy') });
    await bus.ensureTopics(
      [events.outboundRequest, events.outboundResult, events.inboundEmail].map((event) => ({
        topic: event.topic,
        partitions: 8,
      })),
    );
    sender = startServiceProcess('apps/outbound-send/src/main.ts', {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      NODE_EXTRA_CA_CERTS: started.endpoints.caCertPath,
      NODE_USE_ENV_PROXY: '1',
      HTTPS_PROXY: proxy.url,
      NO_PROXY: '',
      OUTBOUND_SEND_STORE: 'mongodb',
      OUTBOUND_SEND_MONGODB_URL: testInfra().mongoUrl,
      OUTBOUND_SEND_MONGODB_DATABASE: database,
      OUTBOUND_SEND_KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
      OUTBOUND_SEND_CONSUMER_GROUP: randomId('os-proxy'),
      OUTBOUND_SEND_CONSUMER_FROM_BEGINNING: 'false',
      OUTBOUND_SEND_AUTH_BROKER_ADDRESS: broker.address,
      OUTBOUND_SEND_AUTH_BROKER_TOKEN: serviceToken,
      OUTBOUND_SEND_METRICS_PORT: '0',
      OUTBOUND_SEND_BACKOFF_BASE_MS: '200',
    });
    await sender.port();
    // The consumer group starts at the latest offset: probe until a request is consumed.
    await waitFor(
      async () => {
        const probe = await publishReply('no-such-mailbox', 'probe');
        return waitFor(() => sends().get(`${tenantId}/${probe.sendId}`), { timeoutMs: 3_000, intervalMs: 100 }).catch(
          () => undefined,
        );
      },
      { timeoutMs: 60_000, intervalMs: 0, description: 'outbound-send consuming' },
    );
  }, 180_000);

  afterAll(async () => {
    await sender?.stop('SIGKILL');
    await broker?.proc.stop('SIGKILL');
    await bus?.close();
    await store?.close();
    const client = await MongoClient.connect(testInfra().mongoUrl);
    await client
      .db(database)
      .dropDatabase()
      .catch(() => undefined);
    await client.close();
    await proxy?.close();
    await started?.sandbox.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  const sends = () => new MongoDocumentTable<SendRecord>(store, 'os_sends');

  async function publishReply(mailboxId: string, text: string): Promise<OutboundRequest> {
    const original =
      mailboxId === 'box-0'
        ? await started.endpoints.admin.deliver(sandbox.directoryId, sandbox.mailboxes[0] as string, {
            from: { address: `${randomId('c')}@customer.example` },
            subject: `Question: ${text}`,
            body: 'help',
          })
        : undefined;
    const request = OutboundRequest.fromPartial({
      eventId: randomUUID(),
      tenantId,
      occurredAt: new Date(),
      sendId: randomUUID(),
      idempotencyKey: randomId('k'),
      requestedBy: { kind: ActorKind.ACTOR_KIND_AGENT, id: 'agent-1', displayName: '' },
      mailboxId,
      mailboxAddress: mailboxId === 'box-0' ? (sandbox.mailboxes[0] as string) : '',
      kind: SendKind.SEND_KIND_REPLY,
      replyMode: ReplyMode.REPLY_MODE_REPLY,
      interactionId: randomUUID(),
      replyToGraphMessageId: original?.immutableId ?? 'none',
      content: { bodyText: text } as OutgoingMessage,
    });
    await bus.publish(events.outboundRequest.topic, toEventMessage('outboundRequest', eventKey(tenantId, mailboxId), request));
    return request;
  }

  async function copiesSent(sendId: string): Promise<number> {
    const sent = (await started.endpoints.admin.sent(sandbox.directoryId, sandbox.mailboxes[0] as string)).value;
    return sent.filter((record) =>
      record.internetMessageHeaders.some((header) => header.name.toLowerCase() === sendIdHeader && header.value === sendId),
    ).length;
  }

  const finalRecord = (sendId: string) =>
    waitFor(
      async () => {
        const record = await sends().get(`${tenantId}/${sendId}`);
        return record && isFinalState(record.state) ? record : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, description: `send ${sendId} final` },
    );

  /** The proxied Graph calls that sent a draft (`POST …/messages/{id}/send`), by status. */
  const draftSends = () =>
    requests.filter((request) => request.method === 'POST' && /\/messages\/[^/?]+\/send(\?|$)/.test(request.path));

  it('sends a reply with its Graph calls through the proxy', async () => {
    const before = draftSends().length;
    const request = await publishReply('box-0', 'Answer through the proxy');
    const record = await finalRecord(request.sendId);
    expect({ state: record.state, failure: record.failure }).toEqual({ state: SendState.SEND_STATE_SENT, failure: undefined });
    expect(await copiesSent(request.sendId)).toBe(1);
    // The reply draft was created and sent through the proxy's CONNECT tunnel to the sandbox.
    expect(requests.some((call) => call.method === 'POST' && /\/createReply(\?|$)/.test(call.path) && call.status === 201)).toBe(
      true,
    );
    expect(
      draftSends()
        .slice(before)
        .map((call) => call.status),
    ).toEqual([202]);
  }, 120_000);

  it('retries a send while the proxy is unreachable and sends it once when the proxy is back', async () => {
    await proxy?.close();
    proxy = undefined;
    const before = requests.length;
    const request = await publishReply('box-0', 'Answer while the proxy is down');
    // Graph calls fail to connect: the send stays open and is retried with backoff, not failed.
    const waiting = await waitFor(
      async () => {
        const record = await sends().get(`${tenantId}/${request.sendId}`);
        return record && (record.transientFailures ?? 0) >= 2 ? record : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'two failed attempts through the unreachable proxy' },
    );
    expect(isFinalState(waiting.state)).toBe(false);
    expect(requests.length).toBe(before);
    expect(await copiesSent(request.sendId)).toBe(0);

    proxy = await startRecordingProxy({
      label: 'outbound-send',
      upstream: started.endpoints.baseUrl,
      certDir,
      requests,
      port: proxyPort,
    });
    const record = await finalRecord(request.sendId);
    expect({ state: record.state, failure: record.failure }).toEqual({ state: SendState.SEND_STATE_SENT, failure: undefined });
    expect(await copiesSent(request.sendId)).toBe(1);
    expect(requests.length).toBeGreaterThan(before);
  }, 120_000);
});
