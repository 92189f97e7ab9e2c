import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Metadata, Status } from 'nice-grpc';
import {
  AutomationFlags,
  InboundEmail,
  OutboundSendServiceDefinition,
  ReplyMode,
  SendFailureReason,
  SendState,
  type OutgoingMessage,
  type UploadAttachmentRequest,
} from '@mailroute/contracts';
import { createGraphMailClient, createMailboxLimiter } from '@mailroute/graph-mail';
import { eventKey, events, InProcessEventBus, toEventMessage } from '@mailroute/messaging';
import { MongoDocumentTable, uploadBlobKey, type MongoStore } from '@mailroute/persistence';
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
import { isFinalState } from './send/send-engine';
import { createServer } from './server';
import { openMongoStores, type OutboundSendStores } from './store/outbound-send.stores';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function* uploadStream(
  name: string,
  content: Buffer,
  declaredSize = content.length,
): AsyncIterable<UploadAttachmentRequest> {
  yield { part: { $case: 'metadata', value: { name, contentType: '', sizeBytes: declaredSize, sha256: sha256(content) } } };
  for (let start = 0; start < content.length; start += 1_048_576)
    yield { part: { $case: 'chunk', value: content.subarray(start, start + 1_048_576) } };
}

describe('outbound-send attachment uploads (UploadAttachment over gRPC, FerretDB GridFS, the graph sandbox)', () => {
  const logger = createLogger({ name: 'os-uploads-test', level: 'silent' });
  let started: Awaited<ReturnType<typeof startTestGraphSandbox>>;
  let stores: OutboundSendStores & { store: MongoStore };
  let service: OutboundSend;
  let server: GrpcServer;
  let client: ReturnType<typeof createGrpcClient<typeof OutboundSendServiceDefinition>>;
  const bus = new InProcessEventBus();
  const sandboxTenants = new Map<string, SandboxMailTenant>();
  const tenants = { a: randomId('t-a'), b: randomId('t-b') };
  const keys = { a: `mrk_${randomBytes(12).toString('hex')}`, b: `mrk_${randomBytes(12).toString('hex')}` };
  const auth = (key: string) => ({ metadata: Metadata({ authorization: `Bearer ${key}` }) });

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    stores = await openMongoStores({ url: testInfra().mongoUrl, database: randomId('os-up') });
    const mailboxTable = new MongoDocumentTable<MailboxConfigView>(stores.store, mailboxConfigTableName);
    for (const tenantId of [tenants.a, tenants.b]) {
      const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 1 });
      sandboxTenants.set(tenantId, sandbox);
      await mailboxTable.put(`${tenantId}/box-0`, {
        address: sandbox.mailboxes[0] as string,
        accessMode: 1,
        credentialsId: '',
        enabled: true,
      });
    }
    service = createOutboundSend({
      stores,
      bus,
      tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants),
      mailboxes: createTableMailboxDirectory(mailboxTable, { cacheMs: 0 }),
      logger,
      replicaId: 'uploads-replica',
      limiter: createMailboxLimiter({ perMailbox: 1 }),
      options: {
        groupId: randomId('os-up'),
        graphRequestTimeoutMs: 60_000,
        dueIntervalMs: 200,
        uploadTtlMs: 8_000,
        uploadSweepIntervalMs: 200,
        engine: { backoffBaseMs: 200, backoffMaxMs: 2_000 },
      },
    });
    await service.start();
    const authenticator = createCallerAuthenticator({
      apiKeys: Object.entries(keys).map(([tenant, key]) => ({
        id: `${tenant}-key`,
        tenantId: tenants[tenant as 'a' | 'b'],
        scopes: ['sends.read', 'sends.write'],
        sha256: hashBearerCredential(key),
      })),
    });
    server = createServer({ logger, service, authenticator });
    const port = await server.listen('127.0.0.1', 0);
    client = createGrpcClient(OutboundSendServiceDefinition, `127.0.0.1:${port}`, { deadlineMs: 120_000 });
  });

  afterAll(async () => {
    client?.close();
    await server?.shutdown(1_000).catch(() => undefined);
    await service?.stop();
    await bus.close();
    await stores?.store.db.dropDatabase().catch(() => undefined);
    await stores?.close();
    await started?.sandbox.stop();
  });

  /** A customer e-mail in tenant's mailbox, announced as mailbox-fetch would. */
  async function inbound(tenantId: string) {
    const sandbox = sandboxTenants.get(tenantId) as SandboxMailTenant;
    const address = sandbox.mailboxes[0] as string;
    const summary = await started.endpoints.admin.deliver(sandbox.directoryId, address, {
      from: { name: 'Ann', address: 'ann@customer.example' },
      subject: 'Contract',
      body: 'Please send the signed contract.',
    });
    const interactionId = randomUUID();
    await bus.publish(
      events.inboundEmail.topic,
      toEventMessage(
        'inboundEmail',
        eventKey(tenantId, 'box-0'),
        InboundEmail.fromPartial({
          eventId: randomUUID(),
          tenantId,
          occurredAt: new Date(),
          interactionId,
          mailboxId: 'box-0',
          mailboxAddress: address,
          message: {
            graphMessageId: summary.immutableId,
            internetMessageId: summary.internetMessageId,
            conversationId: summary.conversationId,
            receivedAt: new Date(),
            automation: AutomationFlags.fromPartial({}),
          },
        }),
      ),
    );
    await waitFor(() => stores.interactions.get(`${tenantId}/${interactionId}`), { description: 'interaction projection' });
    return { interactionId, summary, address, sandbox };
  }

  function replyWithUpload(tenant: 'a' | 'b', interactionId: string, uploadId: string) {
    return client.client.sendReply(
      {
        idempotencyKey: randomId('reply'),
        interactionId,
        replyToGraphMessageId: '',
        mode: ReplyMode.REPLY_MODE_REPLY,
        content: {
          bodyText: 'The signed contract is attached.',
          attachments: [
            {
              name: 'contract.pdf',
              contentType: '',
              isInline: false,
              contentId: '',
              source: { $case: 'uploadId', value: uploadId },
            },
          ],
        } as unknown as OutgoingMessage,
        allowAutomatedRecipient: false,
      },
      auth(keys[tenant]),
    );
  }

  const finalState = (tenant: 'a' | 'b', sendId: string) =>
    waitFor(
      async () => {
        const send = (await client.client.getSendStatus({ key: { $case: 'sendId', value: sendId } }, auth(keys[tenant]))).send;
        return send && isFinalState(send.state) ? send : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200, description: `send ${sendId} final` },
    );

  it("replies with an uploaded 5 MB attachment: sent through an upload session, in Sent Items in the customer's conversation, byte for byte", async () => {
    const { interactionId, summary, address, sandbox } = await inbound(tenants.a);
    const content = randomBytes(5 * 1024 * 1024);
    const { upload } = await client.client.uploadAttachment(uploadStream('contract.pdf', content), auth(keys.a));
    expect(upload).toMatchObject({
      name: 'contract.pdf',
      contentType: 'application/pdf',
      sizeBytes: content.length,
      sha256: sha256(content),
    });
    const accepted = (await replyWithUpload('a', interactionId, upload?.uploadId ?? '')).send;
    const final = await finalState('a', accepted?.sendId ?? '');
    expect(final.failure).toBeUndefined();
    expect(final.state).toBe(SendState.SEND_STATE_SENT);
    expect(final.sent?.conversationId).toBe(summary.conversationId);
    const sentItems = (await started.endpoints.admin.folderMessages(sandbox.directoryId, address, 'sentitems')).value;
    expect(sentItems.filter((message) => message.conversationId === summary.conversationId)).toHaveLength(1);
    // Read back through Graph: over 3 MB, the content went through createUploadSession + ranged PUTs.
    const mailbox = createGraphMailClient({ tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants) }).mailbox({
      tenantId: tenants.a,
      address,
      principal: { kind: 'app-only', credentialsId: 'default' },
    });
    const [attachment, ...others] = await mailbox.listAttachments(final.sent?.graphMessageId ?? '');
    expect(others).toHaveLength(0);
    expect(attachment?.name).toBe('contract.pdf');
    const sent = await mailbox.getAttachmentContent(final.sent?.graphMessageId ?? '', attachment?.id ?? '');
    expect(sha256(sent)).toBe(sha256(content));
    // Referenced by a send: kept past the 8 s upload expiry for as long as the send may retry.
    const stored = await stores.blobs.stat(uploadBlobKey(tenants.a, upload?.uploadId ?? ''));
    expect(stored?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 24 * 60 * 60_000);
  });

  it('refuses an upload declared over 150 MiB with INVALID_ARGUMENT naming metadata.size_bytes', async () => {
    const error = await client.client
      .uploadAttachment(uploadStream('huge.bin', randomBytes(1024), 157_286_401), auth(keys.a))
      .catch((e: unknown) => e as { code: Status; details: string });
    expect(error).toMatchObject({ code: Status.INVALID_ARGUMENT });
    expect((error as { details: string }).details).toContain('metadata.size_bytes');
  });

  it('removes an upload no send referenced after its expiry; a send that references it then fails ATTACHMENT_NOT_FOUND', async () => {
    const { upload } = await client.client.uploadAttachment(uploadStream('draft.txt', Buffer.from('never sent')), auth(keys.a));
    const key = uploadBlobKey(tenants.a, upload?.uploadId ?? '');
    expect(await stores.blobs.stat(key)).toBeDefined();
    await waitFor(async () => (await stores.blobs.stat(key)) === undefined, { timeoutMs: 30_000, description: 'upload swept' });
    const { interactionId } = await inbound(tenants.a);
    const final = await finalState('a', (await replyWithUpload('a', interactionId, upload?.uploadId ?? '')).send?.sendId ?? '');
    expect(final.state).toBe(SendState.SEND_STATE_FAILED);
    expect(final.failure?.reason).toBe(SendFailureReason.SEND_FAILURE_REASON_ATTACHMENT_NOT_FOUND);
  });

  it("does not let tenant B send tenant A's upload", async () => {
    const { upload } = await client.client.uploadAttachment(uploadStream('secret.pdf', randomBytes(2_000)), auth(keys.a));
    const { interactionId } = await inbound(tenants.b);
    const final = await finalState('b', (await replyWithUpload('b', interactionId, upload?.uploadId ?? '')).send?.sendId ?? '');
    expect(final.state).toBe(SendState.SEND_STATE_FAILED);
    expect(final.failure?.reason).toBe(SendFailureReason.SEND_FAILURE_REASON_ATTACHMENT_NOT_FOUND);
  });
});
