import { randomBytes, randomUUID } from 'node:crypto';
import { Metadata } from 'nice-grpc';
import {
  ActorKind,
  AutomationFlags,
  InboundEmail,
  InteractionState,
  InteractionStateChanged,
  OutboundRequest,
  OutboundSendServiceDefinition,
  ReplyMode,
  SendFailureReason,
  SendKind,
  SendOrigin,
  SendState,
  type OutboundResult,
  type OutgoingMessage,
} from '@mailroute/contracts';
import { createGraphMailClient, createGraphSendClient, createMailboxLimiter } from '@mailroute/graph-mail';
import { eventKey, events, fromEventMessage, KafkaEventBus, toEventMessage, type Subscription } from '@mailroute/messaging';
import { MongoDocumentTable, type MongoStore } from '@mailroute/persistence';
import {
  createCallerAuthenticator,
  createGrpcClient,
  createLogger,
  hashBearerCredential,
  type GrpcServer,
} from '@mailroute/platform';
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
import { createSendEngine, isFinalState, sendKey } from './send/send-engine';
import { createSendRateLimiter } from './send/send-rate-limiter';
import { createServer } from './server';
import { openMongoStores, type OutboundSendStores } from './store/outbound-send.stores';

type Started = Awaited<ReturnType<typeof startTestGraphSandbox>>;

/** Sends in the 503/429 storm (OUTBOUND_SEND_TEST_STORM_SENDS, default 9 over 3 mailboxes). */
const stormSends = Number(process.env['OUTBOUND_SEND_TEST_STORM_SENDS'] ?? 9);

describe('outbound-send against the graph sandbox, FerretDB and Kafka', () => {
  const logger = createLogger({
    name: 'outbound-send-test',
    level: (process.env['OS_TEST_LOG'] as 'info' | undefined) ?? 'silent',
  });
  let started: Started;
  let bus: KafkaEventBus;
  let stores: OutboundSendStores & { store: MongoStore };
  let mailboxTable: MongoDocumentTable<MailboxConfigView>;
  let service: OutboundSend;
  let server: GrpcServer;
  let client: ReturnType<typeof createGrpcClient<typeof OutboundSendServiceDefinition>>;
  let resultsSubscription: Subscription;
  const results: OutboundResult[] = [];
  const sandboxTenants = new Map<string, SandboxMailTenant>();
  const limiter = createMailboxLimiter({ perMailbox: 1 });
  const apiKeys = new Map<string, { write: string; supervise: string }>();
  const tenants = {
    main: randomId('t-main'),
    noSend: randomId('t-nosend'),
    policy: randomId('t-policy'),
    storm: randomId('t-storm'),
    unknown: randomId('t-unknown'),
  };

  const auth = (key: string) => ({ metadata: Metadata({ authorization: `Bearer ${key}` }) });
  const keyOf = (tenant: string, kind: 'write' | 'supervise' = 'supervise') => apiKeys.get(tenant)?.[kind] ?? '';

  async function addMailbox(tenantId: string, mailboxId: string, address: string) {
    await mailboxTable.put(`${tenantId}/${mailboxId}`, { address, accessMode: 1, credentialsId: '', enabled: true });
  }

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    const { admin } = started.endpoints;
    bus = new KafkaEventBus({
      brokers: testInfra().kafkaBrokers,
      clientId: randomId('os-test'),
      sessionTimeoutMs: 60_000,
      partitionsConsumedConcurrently: 8,
    });
    stores = await openMongoStores({ url: testInfra().mongoUrl, database: randomId('os') });
    mailboxTable = new MongoDocumentTable<MailboxConfigView>(stores.store, mailboxConfigTableName);

    const main = await createSandboxMailTenant(started.endpoints, { mailboxCount: 2 });
    await admin.createMailbox(main.directoryId, { userPrincipalName: `small@${main.domain}`, maxSendSizeBytes: 50_000 });
    const noSend = await createSandboxMailTenant(started.endpoints, {
      applicationPermissions: ['Mail.ReadWrite', 'User.Read.All'],
    });
    const policy = await createSandboxMailTenant(started.endpoints, { mailboxCount: 2 });
    await admin.setGroupMembers(policy.directoryId, `routed@${policy.domain}`, [policy.mailboxes[0] as string]);
    await admin.createAccessPolicy(policy.directoryId, {
      appId: policy.clientId,
      accessRight: 'RestrictAccess',
      policyScopeGroupId: `routed@${policy.domain}`,
    });
    const storm = await createSandboxMailTenant(started.endpoints, { mailboxCount: 3 });
    const unknown = await createSandboxMailTenant(started.endpoints, { mailboxCount: 2 });
    for (const [tenant, sandbox] of [
      [tenants.main, main],
      [tenants.noSend, noSend],
      [tenants.policy, policy],
      [tenants.storm, storm],
      [tenants.unknown, unknown],
    ] as const) {
      sandboxTenants.set(tenant, sandbox);
      for (const [i, address] of sandbox.mailboxes.entries()) await addMailbox(tenant, `box-${i}`, address);
      apiKeys.set(tenant, {
        write: `mrk_${randomBytes(12).toString('hex')}`,
        supervise: `mrk_${randomBytes(12).toString('hex')}`,
      });
    }
    await addMailbox(tenants.main, 'small', `small@${main.domain}`);

    service = createOutboundSend({
      stores,
      bus,
      tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants),
      mailboxes: createTableMailboxDirectory(mailboxTable, { cacheMs: 0 }),
      logger,
      replicaId: 'test-replica',
      limiter,
      options: {
        groupId: randomId('os-test'),
        fromBeginning: false,
        graphRequestTimeoutMs: 3_000,
        dueIntervalMs: 200,
        sendRatePerWindow: 1_000,
        engine: { backoffBaseMs: 200, backoffMaxMs: 2_000, inlineWaitMaxMs: 5_000 },
      },
    });
    await service.start();
    const authenticator = createCallerAuthenticator({
      apiKeys: [...apiKeys].flatMap(([tenantId, keys]) => [
        { id: `${tenantId}-w`, tenantId, scopes: ['sends.read', 'sends.write'], sha256: hashBearerCredential(keys.write) },
        {
          id: `${tenantId}-s`,
          tenantId,
          scopes: ['sends.read', 'sends.write', 'sends.supervise'],
          sha256: hashBearerCredential(keys.supervise),
        },
      ]),
    });
    server = createServer({ logger, service, authenticator });
    const port = await server.listen('127.0.0.1', 0);
    client = createGrpcClient(OutboundSendServiceDefinition, `127.0.0.1:${port}`, { deadlineMs: 30_000 });
    resultsSubscription = await bus.subscribe({
      groupId: randomId('os-results'),
      topics: [events.outboundResult.topic],
      fromBeginning: false,
      handler: async (message) => {
        results.push(fromEventMessage('outboundResult', message));
      },
    });
    await waitFor(() => service.assigned() && resultsSubscription.assignments().length > 0, {
      timeoutMs: 60_000,
      description: 'consumer assignments',
    });
  });

  afterAll(async () => {
    client?.close();
    await server?.shutdown(1_000).catch(() => undefined);
    await service?.stop();
    await resultsSubscription?.close({ graceMs: 0 });
    await bus?.close();
    await stores?.store.db.dropDatabase().catch(() => undefined);
    await stores?.close();
    await started?.sandbox.stop();
  });

  /** Delivers a customer e-mail to the mailbox and announces it as mailbox-fetch would (InboundEmail). */
  async function inbound(
    tenantId: string,
    box: number,
    mail: Parameters<Started['endpoints']['admin']['deliver']>[2],
    automation: Partial<AutomationFlags> = {},
  ) {
    const sandbox = sandboxTenants.get(tenantId) as SandboxMailTenant;
    const address = sandbox.mailboxes[box] as string;
    const summary = await started.endpoints.admin.deliver(sandbox.directoryId, address, mail);
    const interactionId = randomUUID();
    const event = InboundEmail.fromPartial({
      eventId: randomUUID(),
      tenantId,
      occurredAt: new Date(),
      interactionId,
      mailboxId: `box-${box}`,
      mailboxAddress: address,
      message: {
        graphMessageId: summary.immutableId,
        internetMessageId: summary.internetMessageId,
        conversationId: summary.conversationId,
        receivedAt: new Date(),
        automation: AutomationFlags.fromPartial(automation),
      },
    });
    await bus.publish(events.inboundEmail.topic, toEventMessage('inboundEmail', eventKey(tenantId, `box-${box}`), event));
    await waitFor(() => stores.interactions.get(`${tenantId}/${interactionId}`), {
      timeoutMs: 30_000,
      description: 'interaction projection',
    });
    return { interactionId, summary, address, sandbox };
  }

  /** Publishes an agent's reply as interaction-router does. */
  async function agentRequest(fields: Partial<OutboundRequest> & { tenantId: string; mailboxId: string }) {
    const request = OutboundRequest.fromPartial({
      eventId: randomUUID(),
      occurredAt: new Date(),
      sendId: randomUUID(),
      idempotencyKey: randomId('agent-key'),
      kind: SendKind.SEND_KIND_REPLY,
      replyMode: ReplyMode.REPLY_MODE_REPLY,
      requestedBy: { kind: ActorKind.ACTOR_KIND_AGENT, id: 'agent-1', displayName: 'Agent One' },
      ...fields,
    });
    await bus.publish(
      events.outboundRequest.topic,
      toEventMessage('outboundRequest', eventKey(request.tenantId, request.mailboxId), request),
    );
    return request;
  }

  const finalState = (tenantId: string, sendId: string, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const send = (await client.client.getSendStatus({ key: { $case: 'sendId', value: sendId } }, auth(keyOf(tenantId)))).send;
        return send && isFinalState(send.state) ? send : undefined;
      },
      { timeoutMs, intervalMs: 100, description: `send ${sendId} final` },
    );

  const finalResult = (sendId: string) =>
    waitFor(() => results.find((result) => result.sendId === sendId && isFinalState(result.state)), {
      timeoutMs: 30_000,
      description: `result of ${sendId}`,
    });

  async function sentWith(tenantId: string, address: string, sendId: string) {
    const sandbox = sandboxTenants.get(tenantId) as SandboxMailTenant;
    const sent = (await started.endpoints.admin.sent(sandbox.directoryId, address)).value;
    return sent.filter((record) =>
      record.internetMessageHeaders.some((header) => header.name.toLowerCase() === sendIdHeader && header.value === sendId),
    );
  }

  it("replies in the customer's conversation with reply-all recipients, added cc/bcc, HTML body and a small and a large attachment — once", async () => {
    const { interactionId, summary, address } = await inbound(tenants.main, 0, {
      from: { name: 'Ann', address: 'ann@customer.example' },
      cc: [{ address: 'carol@customer.example' }],
      subject: 'Order 42 missing',
      body: 'Where is my order?',
    });
    const large = randomBytes(3_100_000);
    const content: Partial<OutgoingMessage> = {
      bodyHtml: '<p>Hello Ann, your order ships today.</p>',
      bodyText: 'Hello Ann, your order ships today.',
      cc: [{ address: 'dave@partner.example', name: 'Dave' }],
      bcc: [{ address: 'audit@partner.example', name: '' }],
      attachments: [
        {
          name: 'invoice.pdf',
          contentType: 'application/pdf',
          isInline: false,
          contentId: '',
          source: { $case: 'content', value: randomBytes(10_000) },
        },
        {
          name: 'photos.zip',
          contentType: 'application/zip',
          isInline: false,
          contentId: '',
          source: { $case: 'content', value: large },
        },
      ],
    };
    const idempotencyKey = randomId('reply');
    const request = {
      idempotencyKey,
      interactionId,
      replyToGraphMessageId: '',
      mode: ReplyMode.REPLY_MODE_REPLY_ALL,
      content: content as OutgoingMessage,
      allowAutomatedRecipient: false,
    };
    const accepted = (await client.client.sendReply(request, auth(keyOf(tenants.main, 'write')))).send;
    expect(accepted?.state).toBe(SendState.SEND_STATE_ACCEPTED);
    const sendId = accepted?.sendId as string;

    const final = await finalState(tenants.main, sendId);
    expect(final.state).toBe(SendState.SEND_STATE_SENT);
    expect(final.sent?.conversationId).toBe(summary.conversationId);
    expect(final.sent?.graphMessageId).not.toBe('');
    expect((await finalResult(sendId)).sent?.conversationId).toBe(summary.conversationId);

    const [sent, ...more] = await sentWith(tenants.main, address, sendId);
    expect(more).toHaveLength(0);
    expect(sent?.inReplyTo).toBe(summary.internetMessageId);
    expect(sent?.conversationId).toBe(summary.conversationId);
    expect(sent?.subject).toBe('RE: Order 42 missing');
    expect(sent?.body.content).toContain('Hello Ann, your order ships today.');
    expect(sent?.toRecipients.map((r) => r.emailAddress.address)).toEqual(['ann@customer.example']);
    expect(sent?.ccRecipients.map((r) => r.emailAddress.address).sort()).toEqual([
      'carol@customer.example',
      'dave@partner.example',
    ]);
    expect(sent?.bccRecipients.map((r) => r.emailAddress.address)).toEqual(['audit@partner.example']);
    expect(sent?.attachments.map((a) => [a.name, a.size])).toEqual([
      ['invoice.pdf', 10_000],
      ['photos.zip', 3_100_000],
    ]);
    expect(sent?.savedToSentItems).toBe(true);
    const sentItems = (
      await started.endpoints.admin.folderMessages(sandboxTenants.get(tenants.main)?.directoryId as string, address, 'sentitems')
    ).value;
    expect(sentItems.filter((message) => message.conversationId === summary.conversationId)).toHaveLength(1);

    // The same idempotency key returns the original send; a redelivered request changes nothing.
    const again = (await client.client.sendReply(request, auth(keyOf(tenants.main, 'write')))).send;
    expect(again?.sendId).toBe(sendId);
    expect(again?.state).toBe(SendState.SEND_STATE_SENT);
    const stored = await stores.sends.get(`${tenants.main}/${sendId}`);
    const redelivered = OutboundRequest.fromJSON(stored?.request);
    await bus.publish(
      events.outboundRequest.topic,
      toEventMessage('outboundRequest', eventKey(tenants.main, 'box-0'), { ...redelivered, eventId: randomUUID() }),
    );
    // A later request on the same partition is handled after the redelivery.
    const marker = await agentRequest({
      tenantId: tenants.main,
      mailboxId: 'box-0',
      mailboxAddress: address,
      interactionId,
      replyToGraphMessageId: summary.immutableId,
      content: { bodyText: 'follow-up' } as OutgoingMessage,
    });
    expect((await finalState(tenants.main, marker.sendId)).state).toBe(SendState.SEND_STATE_SENT);
    expect(await sentWith(tenants.main, address, sendId)).toHaveLength(1);
    expect(
      (await client.client.getSendStatus({ key: { $case: 'idempotencyKey', value: idempotencyKey } }, auth(keyOf(tenants.main))))
        .send?.attempts,
    ).toBe(final.attempts);
  });

  it('sends a new message with sendMail semantics (draft + send) from a configured mailbox', async () => {
    const sandbox = sandboxTenants.get(tenants.main) as SandboxMailTenant;
    const send = (
      await client.client.sendNew(
        {
          idempotencyKey: randomId('new'),
          mailboxId: 'box-1',
          interactionId: '',
          content: {
            subject: 'Your ticket',
            bodyText: 'Hello Bob',
            to: [{ address: 'bob@customer.example', name: 'Bob' }],
          } as OutgoingMessage,
        },
        auth(keyOf(tenants.main, 'write')),
      )
    ).send;
    expect((await finalState(tenants.main, send?.sendId as string)).state).toBe(SendState.SEND_STATE_SENT);
    const [sent] = await sentWith(tenants.main, sandbox.mailboxes[1] as string, send?.sendId as string);
    expect(sent?.subject).toBe('Your ticket');
    expect(sent?.toRecipients.map((r) => r.emailAddress.address)).toEqual(['bob@customer.example']);
  });

  it('refuses an idempotency key reused for another interaction, other content or the other call with ALREADY_EXISTS naming idempotency_key; a retry gets the first send', async () => {
    const first = await inbound(tenants.main, 0, { from: { address: 'ida@customer.example' }, subject: 'Key one' });
    const second = await inbound(tenants.main, 0, { from: { address: 'ida@customer.example' }, subject: 'Key two' });
    const key = auth(keyOf(tenants.main, 'write'));
    const idempotencyKey = randomId('reuse');
    const request = {
      idempotencyKey,
      interactionId: first.interactionId,
      replyToGraphMessageId: '',
      mode: ReplyMode.REPLY_MODE_REPLY,
      content: { bodyText: 'First answer' } as OutgoingMessage,
      allowAutomatedRecipient: false,
    };
    const accepted = (await client.client.sendReply(request, key)).send;
    expect((await client.client.sendReply(request, key)).send?.sendId).toBe(accepted?.sendId);
    const refused = { code: 6, details: expect.stringContaining('idempotency_key') };
    await expect(client.client.sendReply({ ...request, interactionId: second.interactionId }, key)).rejects.toMatchObject(
      refused,
    );
    await expect(
      client.client.sendReply({ ...request, content: { bodyText: 'Another answer' } as OutgoingMessage }, key),
    ).rejects.toMatchObject(refused);
    await expect(
      client.client.sendNew(
        {
          idempotencyKey,
          mailboxId: 'box-0',
          interactionId: '',
          content: {
            subject: 'Hi',
            bodyText: 'First answer',
            to: [{ address: 'ida@customer.example', name: '' }],
          } as OutgoingMessage,
        },
        key,
      ),
    ).rejects.toMatchObject(refused);
    const newKey = randomId('reuse-new');
    const sendNew = {
      idempotencyKey: newKey,
      mailboxId: 'box-1',
      interactionId: '',
      content: { subject: 'Ticket', bodyText: 'Hello', to: [{ address: 'ida@customer.example', name: '' }] } as OutgoingMessage,
    };
    const created = (await client.client.sendNew(sendNew, key)).send;
    expect((await client.client.sendNew(sendNew, key)).send?.sendId).toBe(created?.sendId);
    await expect(client.client.sendNew({ ...sendNew, mailboxId: 'box-0' }, key)).rejects.toMatchObject(refused);
    expect((await finalState(tenants.main, accepted?.sendId as string)).state).toBe(SendState.SEND_STATE_SENT);
  });

  it("refuses an API reply in an agent's place (held or being offered) with FAILED_PRECONDITION naming the agent, unless supervisor_override from a supervise key", async () => {
    const { interactionId } = await inbound(tenants.main, 0, { from: { address: 'hal@customer.example' }, subject: 'Held' });
    // The router's state changes, as it publishes them (outbound-send keeps who holds what).
    const change = (version: number, state: InteractionState, agent: { agentId?: string; offeredAgentId?: string }) =>
      InteractionStateChanged.fromPartial({
        eventId: randomUUID(),
        tenantId: tenants.main,
        occurredAt: new Date(),
        interactionId,
        version,
        state,
        interaction: { interactionId, state, version, ...agent },
      });
    const mirror = async (event: InteractionStateChanged) =>
      waitFor(
        async () => {
          if ((await stores.holders.get(`${tenants.main}/${interactionId}`))?.version === event.version) return true;
          await bus.publish(
            events.interactionStateChanged.topic,
            toEventMessage('interactionStateChanged', eventKey(tenants.main, interactionId), event),
          );
          return undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1_000 },
      );
    const request = (override: boolean) => ({
      idempotencyKey: randomId('held'),
      interactionId,
      replyToGraphMessageId: '',
      mode: ReplyMode.REPLY_MODE_REPLY,
      content: { bodyText: 'From the API' } as OutgoingMessage,
      allowAutomatedRecipient: false,
      supervisorOverride: override,
    });

    await mirror(change(3, InteractionState.INTERACTION_STATE_OFFERED, { offeredAgentId: 'olga' }));
    await expect(client.client.sendReply(request(false), auth(keyOf(tenants.main, 'supervise')))).rejects.toMatchObject({
      code: 9,
      details: expect.stringContaining('agent olga'),
    });
    await mirror(change(4, InteractionState.INTERACTION_STATE_ASSIGNED, { agentId: 'olga' }));
    await expect(client.client.sendReply(request(false), auth(keyOf(tenants.main, 'supervise')))).rejects.toMatchObject({
      code: 9,
      details: expect.stringMatching(/held by agent olga.*supervisor_override/),
    });
    await expect(client.client.sendReply(request(true), auth(keyOf(tenants.main, 'write')))).rejects.toMatchObject({
      code: 7,
      details: expect.stringContaining('sends.supervise'),
    });
    const overridden = (await client.client.sendReply(request(true), auth(keyOf(tenants.main, 'supervise')))).send;
    expect((await finalState(tenants.main, overridden?.sendId as string)).state).toBe(SendState.SEND_STATE_SENT);
    await mirror(change(6, InteractionState.INTERACTION_STATE_QUEUED, {}));
    const waiting = (await client.client.sendReply(request(false), auth(keyOf(tenants.main, 'write')))).send;
    expect(waiting?.state).toBe(SendState.SEND_STATE_ACCEPTED);
  });

  describe('permanent failures end with their reason in GetSendStatus and the result event', () => {
    const newMessage = (to: string, extra: Partial<OutgoingMessage> = {}) =>
      ({ subject: 'Hello', bodyText: 'Hi', to: [{ address: to, name: '' }], ...extra }) as OutgoingMessage;

    it.each([
      [
        'an unresolvable recipient',
        tenants.main,
        'box-0',
        () => newMessage(`nobody@${sandboxTenants.get(tenants.main)?.domain}`),
        SendFailureReason.SEND_FAILURE_REASON_INVALID_RECIPIENT,
        'ErrorInvalidRecipients',
      ],
      [
        'Mail.Send not granted',
        tenants.noSend,
        'box-0',
        () => newMessage('ann@customer.example'),
        SendFailureReason.SEND_FAILURE_REASON_MAIL_SEND_NOT_GRANTED,
        'ErrorAccessDenied',
      ],
      [
        'a mailbox outside the access policy',
        tenants.policy,
        'box-1',
        () => newMessage('ann@customer.example'),
        SendFailureReason.SEND_FAILURE_REASON_MAILBOX_OUTSIDE_ACCESS_POLICY,
        'ErrorAccessDenied',
      ],
      [
        "a message over the mailbox's maximum size",
        tenants.main,
        'small',
        () =>
          newMessage('ann@customer.example', {
            attachments: [
              {
                name: 'big.bin',
                contentType: '',
                isInline: false,
                contentId: '',
                source: { $case: 'content', value: randomBytes(60_000) },
              },
            ],
          }),
        SendFailureReason.SEND_FAILURE_REASON_MESSAGE_TOO_LARGE,
        'ErrorMessageSizeExceeded',
      ],
    ] as const)('%s', async (_what, tenantId, mailboxId, content, reason, graphCode) => {
      const send = (
        await client.client.sendNew(
          { idempotencyKey: randomId('fail'), mailboxId, interactionId: '', content: content() },
          auth(keyOf(tenantId, 'write')),
        )
      ).send;
      const final = await finalState(tenantId, send?.sendId as string);
      expect(final.state).toBe(SendState.SEND_STATE_FAILED);
      expect(final.failure?.reason).toBe(reason);
      expect(final.failure?.graphErrorCode).toBe(graphCode);
      expect(final.failure?.message).not.toBe('');
      const result = await finalResult(send?.sendId as string);
      expect(result.state).toBe(SendState.SEND_STATE_FAILED);
      expect(result.failure?.reason).toBe(reason);
    });
  });

  it('sends every request exactly once through a 503/429 storm and lost responses, never above the concurrency limit', async () => {
    const sandbox = sandboxTenants.get(tenants.storm) as SandboxMailTenant;
    const { admin } = started.endpoints;
    await admin.addFault({
      tenantId: sandbox.directoryId,
      endpoint: 'messages.*',
      status: 429,
      retryAfterSeconds: 1,
      probability: 0.2,
    });
    await admin.addFault({ tenantId: sandbox.directoryId, endpoint: 'messages.send', status: 503, probability: 0.3 });
    // Answers later than the client waits: the send happens, the client sees a timeout (ambiguous).
    await admin.addFault({
      tenantId: sandbox.directoryId,
      endpoint: 'messages.send',
      latency: { distribution: 'fixed', ms: 3_500 },
      times: 2,
    });
    const requests = await Promise.all(
      Array.from({ length: stormSends }, (_, i) =>
        client.client.sendNew(
          {
            idempotencyKey: randomId('storm'),
            mailboxId: `box-${i % 3}`,
            interactionId: '',
            content: {
              subject: `Storm ${i}`,
              bodyText: `message ${i}`,
              to: [{ address: `c${i}@customer.example`, name: '' }],
            } as OutgoingMessage,
          },
          auth(keyOf(tenants.storm, 'write')),
        ),
      ),
    );
    const finals = await Promise.all(
      requests.map((response) => finalState(tenants.storm, response.send?.sendId as string, 90_000)),
    );
    await admin.clearFaults();
    expect(finals.filter((send) => send.state !== SendState.SEND_STATE_SENT).map((send) => send.failure)).toEqual([]);
    expect(finals.map((send) => send.state)).toEqual(finals.map(() => SendState.SEND_STATE_SENT));
    for (const [i, response] of requests.entries()) {
      expect(await sentWith(tenants.storm, sandbox.mailboxes[i % 3] as string, response.send?.sendId as string)).toHaveLength(1);
    }
    expect(finals.some((send) => send.attempts > 1)).toBe(true);
    expect((await admin.stats(sandbox.directoryId)).throttled).toBe(0);
    expect(limiter.peakPerMailbox).toBeLessThanOrEqual(1);
  });

  it("fails a send that would wait longer than allowed for the mailbox's send rate limit with SEND_RATE_EXCEEDED", async () => {
    // A second engine on the same store, bus and sandbox, with a limit of 2 sends a minute per mailbox.
    const tokens = createSandboxTokenProvider(started.endpoints, sandboxTenants);
    const engine = createSendEngine({
      stores,
      bus,
      graph: createGraphSendClient({ tokens, limiter }),
      mail: createGraphMailClient({ tokens, limiter }),
      mailboxes: createTableMailboxDirectory(mailboxTable, { cacheMs: 0 }),
      rate: createSendRateLimiter({ perWindow: 2, windowMs: 60_000 }),
      logger,
      replicaId: 'rate-test',
      options: { rateMaxWaitMs: 2_000 },
    });
    const sandbox = sandboxTenants.get(tenants.main) as SandboxMailTenant;
    const finals = [];
    for (let i = 0; i < 3; i += 1) {
      const request = OutboundRequest.fromPartial({
        eventId: randomUUID(),
        tenantId: tenants.main,
        occurredAt: new Date(),
        sendId: randomUUID(),
        idempotencyKey: randomId('rate'),
        kind: SendKind.SEND_KIND_NEW,
        mailboxId: 'box-1',
        mailboxAddress: sandbox.mailboxes[1] as string,
        content: {
          subject: `Automation ${i}`,
          bodyText: 'x',
          to: [{ address: 'bot-target@customer.example', name: '' }],
        } as OutgoingMessage,
        requestedBy: { kind: ActorKind.ACTOR_KIND_SYSTEM, id: '', displayName: '' },
      });
      await engine.intake(request, SendOrigin.SEND_ORIGIN_API);
      finals.push(await engine.drive(tenants.main, request.sendId));
    }
    await engine.close();
    expect(finals.map((record) => record?.state)).toEqual([
      SendState.SEND_STATE_SENT,
      SendState.SEND_STATE_SENT,
      SendState.SEND_STATE_FAILED,
    ]);
    expect(finals[2]?.failure?.reason).toBe(SendFailureReason.SEND_FAILURE_REASON_SEND_RATE_EXCEEDED);
    expect(await sentWith(tenants.main, sandbox.mailboxes[1] as string, finals[2]?.sendId as string)).toHaveLength(0);
  });

  describe('a send whose outcome is unknown is never reported FAILED', () => {
    const statesOf = (sendId: string) => results.filter((result) => result.sendId === sendId).map((result) => result.state);

    afterEach(() => started.endpoints.admin.clearFaults());

    it("reports SENT, proved by the draft, when the connection was cut after Graph's 202 and the Sent Items lookup is refused", async () => {
      const sandbox = sandboxTenants.get(tenants.unknown) as SandboxMailTenant;
      const address = sandbox.mailboxes[0] as string;
      const { admin } = started.endpoints;
      // The send goes out, the client sees a connection reset; reading Sent Items then answers 403.
      await admin.addFault({
        tenantId: sandbox.directoryId,
        mailbox: address,
        endpoint: 'messages.send',
        dropResponse: true,
        times: 1,
      });
      await admin.addFault({ tenantId: sandbox.directoryId, mailbox: address, endpoint: 'messages.list', status: 403 });
      const send = (
        await client.client.sendNew(
          {
            idempotencyKey: randomId('cut'),
            mailboxId: 'box-0',
            interactionId: '',
            content: {
              subject: 'Your refund',
              bodyText: 'It is on its way.',
              to: [{ address: 'ann@customer.example', name: '' }],
            } as OutgoingMessage,
          },
          auth(keyOf(tenants.unknown, 'write')),
        )
      ).send;
      const sendId = send?.sendId as string;
      const final = await finalState(tenants.unknown, sendId);
      expect(final.failure).toBeUndefined();
      expect(final.state).toBe(SendState.SEND_STATE_SENT);
      expect(await sentWith(tenants.unknown, address, sendId)).toHaveLength(1);
      expect(final.sent?.graphMessageId).not.toBe('');
      expect((await finalResult(sendId)).state).toBe(SendState.SEND_STATE_SENT);
      // The event stream said "checking" in between, never FAILED.
      expect(statesOf(sendId)).toContain(SendState.SEND_STATE_CHECKING);
      expect(statesOf(sendId)).not.toContain(SendState.SEND_STATE_FAILED);
      expect((await admin.stats(sandbox.directoryId)).graphRequestsByEndpoint['messages.send']).toBe(1);
    });

    it('stays CHECKING while Sent Items and the draft cannot be read, then ends OUTCOME_UNKNOWN, not FAILED', async () => {
      const sandbox = sandboxTenants.get(tenants.unknown) as SandboxMailTenant;
      const address = sandbox.mailboxes[1] as string;
      const { admin } = started.endpoints;
      await admin.addFault({
        tenantId: sandbox.directoryId,
        mailbox: address,
        endpoint: 'messages.send',
        dropResponse: true,
        times: 1,
      });
      await admin.addFault({ tenantId: sandbox.directoryId, mailbox: address, endpoint: 'messages.list', status: 400 });
      await admin.addFault({ tenantId: sandbox.directoryId, mailbox: address, endpoint: 'messages.get', status: 403 });
      // A second engine on the same store, bus and sandbox, with a check budget of a few seconds.
      const tokens = createSandboxTokenProvider(started.endpoints, sandboxTenants);
      const engine = createSendEngine({
        stores,
        bus,
        graph: createGraphSendClient({ tokens, limiter }),
        mail: createGraphMailClient({ tokens, limiter }),
        mailboxes: createTableMailboxDirectory(mailboxTable, { cacheMs: 0 }),
        rate: createSendRateLimiter(),
        logger,
        replicaId: 'check-budget-test',
        options: { backoffBaseMs: 100, backoffMaxMs: 500, outcomeCheckBudgetMs: 3_000 },
      });
      const request = OutboundRequest.fromPartial({
        eventId: randomUUID(),
        tenantId: tenants.unknown,
        occurredAt: new Date(),
        sendId: randomUUID(),
        idempotencyKey: randomId('unknown'),
        kind: SendKind.SEND_KIND_NEW,
        mailboxId: 'box-1',
        mailboxAddress: address,
        content: {
          subject: 'Your order',
          bodyText: 'Shipped.',
          to: [{ address: 'bob@customer.example', name: '' }],
        } as OutgoingMessage,
        requestedBy: { kind: ActorKind.ACTOR_KIND_SYSTEM, id: '', displayName: '' },
      });
      await engine.intake(request, SendOrigin.SEND_ORIGIN_API);
      const final = await engine.drive(tenants.unknown, request.sendId);
      await engine.close();
      expect(final?.state).toBe(SendState.SEND_STATE_OUTCOME_UNKNOWN);
      expect(final?.failure?.reason).toBe(SendFailureReason.SEND_FAILURE_REASON_OUTCOME_CHECK_FAILED);
      expect(final?.failure?.graphErrorCode).toBe('ErrorAccessDenied');
      expect(final?.failure?.message).toMatch(/may have been sent/);
      // It did go out, once: reporting FAILED would have invited a second reply.
      expect(await sentWith(tenants.unknown, address, request.sendId)).toHaveLength(1);
      expect((await finalResult(request.sendId)).state).toBe(SendState.SEND_STATE_OUTCOME_UNKNOWN);
      await waitFor(() => statesOf(request.sendId).filter((state) => state === SendState.SEND_STATE_CHECKING).length >= 2, {
        timeoutMs: 10_000,
        description: 'CHECKING results',
      });
      expect(statesOf(request.sendId)).not.toContain(SendState.SEND_STATE_FAILED);
    });

    it('does not publish the request again when a retried SendNew finds its send ended OUTCOME_UNKNOWN before the request was published', async () => {
      const sandbox = sandboxTenants.get(tenants.unknown) as SandboxMailTenant;
      const sendNew = {
        idempotencyKey: randomId('unknown-retry'),
        mailboxId: 'box-0',
        interactionId: '',
        content: {
          subject: 'Your invoice',
          bodyText: 'Attached.',
          to: [{ address: 'cy@customer.example', name: '' }],
        } as OutgoingMessage,
      };
      // What a process leaves behind that recorded the send, ended it OUTCOME_UNKNOWN and crashed before
      // publishing its OutboundRequest (requestPublished false): the retry finds it by its idempotency key.
      const sendId = randomUUID();
      const request = OutboundRequest.fromPartial({
        eventId: randomUUID(),
        tenantId: tenants.unknown,
        occurredAt: new Date(),
        sendId,
        idempotencyKey: sendNew.idempotencyKey,
        kind: SendKind.SEND_KIND_NEW,
        mailboxId: 'box-0',
        mailboxAddress: sandbox.mailboxes[0] as string,
        content: sendNew.content,
        requestedBy: { kind: ActorKind.ACTOR_KIND_SYSTEM, id: '', displayName: '' },
      });
      const now = Date.now();
      const failure = {
        reason: SendFailureReason.SEND_FAILURE_REASON_OUTCOME_CHECK_FAILED,
        message: 'may have been sent',
        graphErrorCode: '',
        httpStatus: 0,
        graphRequestId: '',
        overridable: false,
      };
      await stores.sends.put(sendKey(tenants.unknown, sendId), {
        tenantId: tenants.unknown,
        sendId,
        request: OutboundRequest.toJSON(request),
        origin: SendOrigin.SEND_ORIGIN_API,
        state: SendState.SEND_STATE_OUTCOME_UNKNOWN,
        failure,
        attempts: 1,
        requestPublished: false,
        createdAt: now,
        updatedAt: now,
      });
      await stores.idempotency.insert(`${tenants.unknown}/api/${sendNew.idempotencyKey}`, { sendId, at: now });
      const retried = (await client.client.sendNew(sendNew, auth(keyOf(tenants.unknown, 'write')))).send;
      expect(retried?.sendId).toBe(sendId);
      expect(retried?.state).toBe(SendState.SEND_STATE_OUTCOME_UNKNOWN);
      // Publishing it would have the consumer take up a send that has ended; republish marks what it published.
      expect((await stores.sends.get(sendKey(tenants.unknown, sendId)))?.requestPublished).toBe(false);
    });
  });

  describe('safety', () => {
    it('refuses to reply to an auto-reply unless a supervisor overrides', async () => {
      const { interactionId, address } = await inbound(
        tenants.main,
        1,
        {
          from: { address: 'ann@customer.example' },
          subject: 'Out of office',
          headers: [{ name: 'Auto-Submitted', value: 'auto-replied' }],
        },
        { autoReply: true },
      );
      const request = {
        idempotencyKey: randomId('ooo'),
        interactionId,
        replyToGraphMessageId: '',
        mode: ReplyMode.REPLY_MODE_REPLY,
        content: { bodyText: 'Thanks' } as OutgoingMessage,
        allowAutomatedRecipient: false,
      };
      const refused = await finalState(
        tenants.main,
        (await client.client.sendReply(request, auth(keyOf(tenants.main, 'write')))).send?.sendId as string,
      );
      expect(refused.state).toBe(SendState.SEND_STATE_FAILED);
      expect(refused.failure?.reason).toBe(SendFailureReason.SEND_FAILURE_REASON_LOOP_PROTECTION);
      expect(refused.failure?.overridable).toBe(true);
      expect(await sentWith(tenants.main, address, refused.sendId)).toHaveLength(0);

      const override = { ...request, idempotencyKey: randomId('ooo-override'), allowAutomatedRecipient: true };
      await expect(client.client.sendReply(override, auth(keyOf(tenants.main, 'write')))).rejects.toMatchObject({
        details: expect.stringContaining('sends.supervise'),
      });
      const sent = await finalState(
        tenants.main,
        (await client.client.sendReply(override, auth(keyOf(tenants.main, 'supervise')))).send?.sendId as string,
      );
      expect(sent.state).toBe(SendState.SEND_STATE_SENT);
    });

    type Mail = Parameters<Started['endpoints']['admin']['deliver']>[2];
    it.each<[string, Mail]>([
      ['a no-reply sender', { from: { address: 'no-reply@shop.example' }, subject: 'Your receipt' }],
      [
        'a bounce',
        {
          from: { address: 'MAILER-DAEMON@mx.customer.example' },
          subject: 'Undeliverable: Order 42',
          headers: [{ name: 'Auto-Submitted', value: 'auto-replied' }],
        },
      ],
      [
        'a message carrying our own send id (loop)',
        {
          from: { address: 'support@elsewhere.example' },
          subject: 'RE: RE: Order',
          headers: [{ name: 'X-Mailroute-Send-Id', value: 'abc' }],
        },
      ],
      // Intake's rules, which outbound-send's own classifier used to miss (one classifier now).
      [
        'an automatic reply marked only by Precedence: auto_reply',
        {
          from: { address: 'ann@customer.example' },
          subject: 'Automatic reply: Order',
          headers: [{ name: 'Precedence', value: 'auto_reply' }],
        },
      ],
      [
        'a non-delivery report from an ordinary sender',
        { from: { address: 'mx01@mail.customer.example' }, subject: 'Undeliverable: Order 42' },
      ],
    ])('refuses an agent reply to %s, read from the original message in Graph', async (_what, mail) => {
      const sandbox = sandboxTenants.get(tenants.main) as SandboxMailTenant;
      const summary = await started.endpoints.admin.deliver(sandbox.directoryId, sandbox.mailboxes[0] as string, {
        ...mail,
        body: 'automated',
      });
      const request = await agentRequest({
        tenantId: tenants.main,
        mailboxId: 'box-0',
        interactionId: randomUUID(),
        replyToGraphMessageId: summary.immutableId,
        content: { bodyText: 'Hello' } as OutgoingMessage,
      });
      const final = await finalState(tenants.main, request.sendId);
      expect(final.failure?.reason).toBe(SendFailureReason.SEND_FAILURE_REASON_LOOP_PROTECTION);
      expect((await finalResult(request.sendId)).failure?.reason).toBe(SendFailureReason.SEND_FAILURE_REASON_LOOP_PROTECTION);
    });

    it("appends the reply's signature once: sanitized in HTML, after '-- ' in a text-only reply, also when the agent's body already ends with it", async () => {
      const signature = {
        html: '<p>Pia <b>Support</b></p><script>steal()</script><img src="https://tracker.example/s.gif">',
        text: 'Pia, Support',
        templateId: 'team',
      };
      const html = await inbound(tenants.main, 0, { from: { address: 'ann@customer.example' }, subject: 'Sig', body: '?' });
      const htmlReply = await agentRequest({
        tenantId: tenants.main,
        mailboxId: 'box-0',
        interactionId: html.interactionId,
        replyToGraphMessageId: html.summary.immutableId,
        content: { bodyHtml: '<p>Done.</p>' } as OutgoingMessage,
        signature,
      });
      const text = await inbound(tenants.main, 0, { from: { address: 'ann@customer.example' }, subject: 'Sig text', body: '?' });
      const textReply = await agentRequest({
        tenantId: tenants.main,
        mailboxId: 'box-0',
        interactionId: text.interactionId,
        replyToGraphMessageId: text.summary.immutableId,
        content: { bodyText: 'Done.\n\n-- \nPia, Support' } as OutgoingMessage,
        signature,
      });
      for (const request of [htmlReply, textReply])
        expect((await finalState(tenants.main, request.sendId)).state).toBe(SendState.SEND_STATE_SENT);
      const [sentHtml] = await sentWith(tenants.main, html.address, htmlReply.sendId);
      const body = sentHtml?.body.content ?? '';
      expect(body.match(/Pia <b>Support<\/b>/g)).toHaveLength(1);
      expect(body).not.toMatch(/script|steal|tracker\.example/);
      const [sentText] = await sentWith(tenants.main, text.address, textReply.sendId);
      expect(sentText?.body.content.match(/Pia, Support/g)).toHaveLength(1);
    });

    it('appends the signature once when the send is retried after a 503 and after a lost response', async () => {
      const signature = { html: '<p>Pia, <b>Support</b></p>', text: 'Pia, Support', templateId: 'own,team' };
      const { admin } = started.endpoints;
      const sandbox = sandboxTenants.get(tenants.main) as SandboxMailTenant;
      const address = sandbox.mailboxes[0] as string;
      try {
        for (const fault of [{ status: 503 as const }, { dropResponse: true }]) {
          const mail = await inbound(tenants.main, 0, {
            from: { address: 'ann@customer.example' },
            subject: 'Sig retry',
            body: '?',
          });
          await admin.addFault({
            tenantId: sandbox.directoryId,
            mailbox: address,
            endpoint: 'messages.send',
            times: 1,
            ...fault,
          });
          const reply = await agentRequest({
            tenantId: tenants.main,
            mailboxId: 'box-0',
            interactionId: mail.interactionId,
            replyToGraphMessageId: mail.summary.immutableId,
            content: { bodyHtml: '<p>Done.</p>' } as OutgoingMessage,
            signature,
          });
          const final = await finalState(tenants.main, reply.sendId);
          expect(final.state).toBe(SendState.SEND_STATE_SENT);
          expect(final.attempts).toBeGreaterThanOrEqual(fault.status ? 2 : 1);
          const [sent, ...again] = await sentWith(tenants.main, mail.address, reply.sendId);
          expect(again).toEqual([]);
          expect(sent?.body.content.match(/Pia, <b>Support<\/b>/g)).toHaveLength(1);
        }
      } finally {
        await admin.clearFaults();
      }
    });

    it("sends an agent's HTML to the customer sanitized: formatting and cid: images kept, scripts, handlers, remote images and CSS expressions gone", async () => {
      const { interactionId, address, summary } = await inbound(tenants.main, 0, {
        from: { address: 'ann@customer.example' },
        subject: 'Photo',
        body: 'see attached',
      });
      const bodyHtml =
        '<p onclick="track()">Hello <b>Ann</b></p><script>document.cookie</script><table><tr><td colspan="2">Mug</td></tr></table>' +
        '<img src="https://tracker.example/open.gif" onerror="x()"><img src="cid:logo" alt="logo"><a href="javascript:alert(1)">x</a>' +
        '<div style="font-weight: bold expression(alert(1))">Regards</div>';
      const request = await agentRequest({
        tenantId: tenants.main,
        mailboxId: 'box-0',
        interactionId,
        replyToGraphMessageId: summary.immutableId,
        content: { bodyHtml, bodyText: 'Hello Ann' } as OutgoingMessage,
      });
      expect((await finalState(tenants.main, request.sendId)).state).toBe(SendState.SEND_STATE_SENT);
      const [sent] = await sentWith(tenants.main, address, request.sendId);
      const html = sent?.body.content ?? '';
      expect(html).toContain('<p>Hello <b>Ann</b></p>');
      expect(html).toContain('<td colspan="2">Mug</td>');
      expect(html).toContain('<img alt="logo" src="cid:logo" />');
      expect(html).not.toMatch(/<script|onclick|onerror|tracker\.example|javascript:|expression/);
    });

    it('answers INVALID_ARGUMENT naming the field for header injection and unparseable addresses', async () => {
      const { interactionId } = await inbound(tenants.main, 0, { from: { address: 'eve@customer.example' }, subject: 'Hi' });
      const key = auth(keyOf(tenants.main, 'write'));
      await expect(
        client.client.sendReply(
          {
            idempotencyKey: randomId('inj'),
            interactionId,
            replyToGraphMessageId: '',
            mode: ReplyMode.REPLY_MODE_REPLY,
            content: { subject: 'Re: Hi\r\nBcc: all@victims.example', bodyText: 'x' } as OutgoingMessage,
            allowAutomatedRecipient: false,
          },
          key,
        ),
      ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('content.subject') });
      await expect(
        client.client.sendNew(
          {
            idempotencyKey: randomId('inj'),
            mailboxId: 'box-0',
            interactionId: '',
            content: {
              subject: 'Hi',
              bodyText: 'x',
              to: [{ address: 'ann@customer.example\nBcc: x@evil.example', name: '' }],
            } as OutgoingMessage,
          },
          key,
        ),
      ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('content.to[0].address') });
      await expect(
        client.client.sendNew(
          {
            idempotencyKey: randomId('inj'),
            mailboxId: 'box-0',
            interactionId: '',
            content: { subject: 'Hi', bodyText: 'x', to: [{ address: 'not an address', name: '' }] } as OutgoingMessage,
          },
          key,
        ),
      ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('content.to[0].address') });
      await expect(
        client.client.sendNew(
          {
            idempotencyKey: '',
            mailboxId: 'box-0',
            interactionId: '',
            content: { subject: 'Hi', bodyText: 'x' } as OutgoingMessage,
          },
          key,
        ),
      ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('idempotency_key') });
    });

    it('fails an agent reply carrying CR/LF in a recipient with HEADER_INJECTION and sends nothing', async () => {
      const { interactionId, summary, address } = await inbound(tenants.main, 0, {
        from: { address: 'frank@customer.example' },
        subject: 'Help',
      });
      const request = await agentRequest({
        tenantId: tenants.main,
        mailboxId: 'box-0',
        interactionId,
        replyToGraphMessageId: summary.immutableId,
        content: {
          bodyText: 'x',
          cc: [{ address: 'frank@customer.example\r\nBcc: list@victims.example', name: '' }],
        } as OutgoingMessage,
      });
      const final = await finalState(tenants.main, request.sendId);
      expect(final.failure?.reason).toBe(SendFailureReason.SEND_FAILURE_REASON_HEADER_INJECTION);
      expect(await sentWith(tenants.main, address, request.sendId)).toHaveLength(0);
    });
  });
});
