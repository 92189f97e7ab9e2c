import { createHash, randomBytes } from 'node:crypto';
import { Mailbox, type InboundEmail } from '@mailroute/contracts';
import { createGraphMailClient, createMailboxLimiter } from '@mailroute/graph-mail';
import { events, fromEventMessage, KafkaEventBus, type Subscription } from '@mailroute/messaging';
import { inboundAttachmentBlobKey } from '@mailroute/persistence';
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
import { moveLegacyAttachmentContent } from './ingest/legacy-attachments';
import { createMailboxFetchCore, type MailboxFetchCore } from './mailbox-fetch';
import { openMongoStores, type MailboxFetchStores } from './store/mailbox-fetch.stores';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function readBlob(stores: MailboxFetchStores, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stores.blobs.read(key)) parts.push(part);
  return Buffer.concat(parts);
}

describe('mailbox-fetch stores inbound attachments in the blob store (graph sandbox, FerretDB, Kafka)', () => {
  const logger = createLogger({ name: 'mf-attachments-test', level: 'silent' });
  let started: Awaited<ReturnType<typeof startTestGraphSandbox>>;
  let bus: KafkaEventBus;
  let subscription: Subscription;
  const received: InboundEmail[] = [];
  const sandboxTenants = new Map<string, SandboxMailTenant>();
  let stores: MailboxFetchStores;
  let core: MailboxFetchCore;

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('mf-att') });
    await bus.ensureTopics([{ topic: events.inboundEmail.topic, partitions: 8 }]);
    subscription = await bus.subscribe({
      groupId: randomId('mf-att-consumer'),
      topics: [events.inboundEmail.topic],
      fromBeginning: false,
      handler: async (message) => {
        received.push(fromEventMessage('inboundEmail', message));
      },
    });
    await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 30_000, description: 'consumer assignment' });
    stores = await openMongoStores({ url: testInfra().mongoUrl, database: randomId('mf-att') });
    core = createMailboxFetchCore({
      stores,
      graph: createGraphMailClient({
        tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants),
        limiter: createMailboxLimiter({ perMailbox: 3 }),
        logger,
        requestTimeoutMs: 120_000,
      }),
      bus,
      logger,
      replicaId: 'replica-att',
      options: {
        leaseTtlMs: 20_000,
        scanIntervalMs: 300,
        pollIntervalCapMs: 300,
        errorBackoffBaseMs: 200,
        errorBackoffMaxMs: 1_000,
      },
    });
    core.runtime.start();
  });

  afterAll(async () => {
    await core?.runtime.stop().catch(() => undefined);
    await stores?.close().catch(() => undefined);
    await subscription?.close({ graceMs: 0 });
    await bus?.close();
    await started?.sandbox.stop();
  });

  it('stores a 40 MB attachment and an inline cid: image with size, sha256, name and content id; the event carries the sanitized HTML with the cid reference', async () => {
    const tenantId = randomId('tenant');
    const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 1 });
    sandboxTenants.set(tenantId, sandbox);
    const address = sandbox.mailboxes[0] ?? '';
    await core.createMailbox(tenantId, 'box', Mailbox.fromPartial({ address, attachmentStorageLimitBytes: 60_000_000 }));
    const large = randomBytes(40 * 1024 * 1024);
    const logo = randomBytes(2_000);
    await started.endpoints.admin.deliver(sandbox.directoryId, address, {
      from: 'customer@example.org',
      subject: 'scans attached',
      bodyType: 'html',
      body: '<p onclick="x()">See <img src="cid:logo@example.org" alt="logo"> and <img src="https://tracker.example/p.gif"></p>',
      attachments: [
        { name: 'scan.pdf', contentType: 'application/pdf', contentBase64: large.toString('base64') },
        {
          name: 'logo.png',
          contentType: 'image/png',
          contentBase64: logo.toString('base64'),
          isInline: true,
          contentId: 'logo@example.org',
        },
      ],
    });
    const event = await waitFor(() => received.find((candidate) => candidate.tenantId === tenantId), {
      timeoutMs: 180_000,
      description: 'the inbound event',
    });
    const message = event.message;
    expect(message?.bodyHtml).toBe(
      '<p>See <img alt="logo" data-cid="logo@example.org" /> and <img alt="" data-remote-src="https://tracker.example/p.gif" /></p>',
    );
    const [scan, inline] = message?.attachments ?? [];
    expect(scan).toMatchObject({
      name: 'scan.pdf',
      contentType: 'application/pdf',
      sizeBytes: large.length,
      contentStored: true,
      contentSha256: sha256(large),
    });
    expect(inline).toMatchObject({ name: 'logo.png', isInline: true, contentId: 'logo@example.org', contentStored: true });
    const graphMessageId = message?.graphMessageId ?? '';
    const stored = await readBlob(stores, inboundAttachmentBlobKey(tenantId, graphMessageId, scan?.attachmentId ?? ''));
    expect(sha256(stored)).toBe(sha256(large));
    expect(stored.equals(large)).toBe(true);
    expect(
      (await readBlob(stores, inboundAttachmentBlobKey(tenantId, graphMessageId, inline?.attachmentId ?? ''))).equals(logo),
    ).toBe(true);
    // Nothing of the content went into a document.
    expect(await stores.attachments.list({ prefix: '', limit: 10 })).toEqual([]);
  });

  it('moves attachment content stored base64 in documents by earlier versions into the blob store', async () => {
    const tenantId = randomId('tenant');
    const content = randomBytes(50_000);
    await stores.inbound.insert(`${tenantId}/box/abc`, {
      tenantId,
      mailboxId: 'box',
      interactionId: 'ix-legacy',
      internetMessageId: '<legacy@example.org>',
      graphMessageId: 'AAMk-legacy',
      receivedAt: 0,
      ingestedAt: 0,
    });
    await stores.attachments.put(`${tenantId}/ix-legacy/att`, {
      tenantId,
      interactionId: 'ix-legacy',
      attachmentId: 'att-1',
      name: 'old.pdf',
      contentType: 'application/pdf',
      sizeBytes: content.length,
      sha256: sha256(content),
      contentBase64: content.toString('base64'),
    });
    expect(await moveLegacyAttachmentContent(stores, logger)).toBe(1);
    const key = inboundAttachmentBlobKey(tenantId, 'AAMk-legacy', 'att-1');
    expect(await stores.blobs.stat(key)).toMatchObject({ name: 'old.pdf', sha256: sha256(content), sizeBytes: content.length });
    expect((await readBlob(stores, key)).equals(content)).toBe(true);
    expect(await stores.attachments.get(`${tenantId}/ix-legacy/att`)).toBeUndefined();
    expect(await moveLegacyAttachmentContent(stores, logger)).toBe(0);
  });
});
