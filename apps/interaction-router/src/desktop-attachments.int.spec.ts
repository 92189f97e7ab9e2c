import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Status, type ClientError } from 'nice-grpc';
import { AttachmentKind, type UploadReplyAttachmentRequest } from '@mailroute/contracts';
import type { Subscription } from '@mailroute/messaging';
import { inboundAttachmentBlobKey, uploadBlobKey } from '@mailroute/persistence';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import {
  collectStream,
  createTestIdentityProvider,
  startHarness,
  watchOutboundRequests,
  type Harness,
} from '../test/router-harness';

/**
 * Uploads expire this long after their last byte (while one is received, after its start). Short, so
 * the sweep test sees one go; long enough that an upload and the reply naming it fit well inside it on
 * a busy machine (at 3 s, a 5 MB upload and its reply once took longer there and the reply was refused).
 */
const uploadTtlMs = 15_000;

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function* uploadStream(
  name: string,
  content: Buffer,
  declaredSize = content.length,
): AsyncIterable<UploadReplyAttachmentRequest> {
  yield { part: { $case: 'metadata', value: { name, contentType: '', sizeBytes: declaredSize, sha256: '' } } };
  for (let start = 0; start < content.length; start += 1_048_576)
    yield { part: { $case: 'chunk', value: content.subarray(start, start + 1_048_576) } };
}

const grpcError = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as ClientError,
  );

/**
 * DownloadAttachment and UploadReplyAttachment over real gRPC, with the router's stores on FerretDB
 * (attachment content in GridFS) and Kafka. mailbox-fetch's part — storing the content under
 * inboundAttachmentBlobKey — is played here by writing the blob as it does (its own spec stores a
 * 40 MB attachment from the graph sandbox).
 */
describe('agent desktop attachments (real gRPC, FerretDB GridFS, Kafka)', () => {
  const tenantA = randomId('tenant-att-a');
  const tenantB = randomId('tenant-att-b');
  const dirA = randomId('dir-att-a');
  const dirB = randomId('dir-att-b');
  let idp: Awaited<ReturnType<typeof createTestIdentityProvider>>;
  let harness: Harness;
  let outbound: Subscription;
  let outboundRequests: Awaited<ReturnType<typeof watchOutboundRequests>>['requests'];
  const aborts: AbortController[] = [];

  beforeAll(async () => {
    idp = await createTestIdentityProvider(
      new Map([
        [dirA, tenantA],
        [dirB, tenantB],
      ]),
    );
    harness = await startHarness({
      infra: testInfra(),
      replicas: 1,
      tenants: [tenantA, tenantB],
      verifier: idp.verifier,
      uploadTtlMs,
      uploadSweepIntervalMs: 200,
    });
    ({ subscription: outbound, requests: outboundRequests } = await watchOutboundRequests(harness, tenantA));
    for (const [tenant, agent] of [
      [tenantA, 'anna'],
      [tenantB, 'bert'],
    ] as const) {
      const admin = harness.admin(tenant);
      await admin.createQueue({ queueId: 'support', queue: { displayName: 'Support', offerTimeout: { seconds: 30, nanos: 0 } } });
      await admin.createAgent({
        agentId: agent,
        agent: { displayName: agent, entraObjectId: `oid-${agent}`, queueIds: ['support'], capacity: 5, skills: [] },
      });
    }
  });

  afterAll(async () => {
    for (const abort of aborts) abort.abort();
    await outbound?.close();
    await harness?.close();
  });

  /** An e-mail with one stored attachment, routed to and accepted by the tenant's agent. */
  async function acceptedWithAttachment(tenant: string, directory: string, agent: string, content: Buffer) {
    const token = await idp.token(directory, `oid-${agent}`);
    const abort = new AbortController();
    aborts.push(abort);
    const stream = collectStream(harness.desktop(token).connect({ clientInstanceId: randomId('tab') }, { signal: abort.signal }));
    await waitFor(() => stream.of('snapshot').length === 1, { timeoutMs: 90_000 });
    const interactionId = randomId('ix');
    const graphMessageId = `AAMk-${randomUUID()}`;
    const attachmentId = `AAMk-att-${randomUUID()}`;
    const stored = await harness.stores.blobs.put(inboundAttachmentBlobKey(tenant, graphMessageId, attachmentId), content, {
      name: 'scan.pdf',
      contentType: 'application/pdf',
    });
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: 'support',
      message: {
        subject: 'scanned contract',
        conversationId: `conv-${interactionId}`,
        graphMessageId,
        attachments: [
          {
            attachmentId,
            name: 'scan.pdf',
            contentType: 'application/pdf',
            sizeBytes: content.length,
            kind: AttachmentKind.ATTACHMENT_KIND_FILE,
            isInline: false,
            contentId: '',
            contentStored: true,
            contentSha256: stored.sha256,
          },
        ],
      } as never,
    });
    // Generous: the shared machine runs several suites at once.
    const offer = await waitFor(() => stream.offers().find((o) => o.interaction?.interactionId === interactionId), {
      timeoutMs: 90_000,
    });
    const desktop = harness.desktop(token);
    await desktop.accept({ offerId: offer.offerId });
    return { desktop, interactionId, graphMessageId, attachmentId };
  }

  it('streams a 40 MB inbound attachment to the agent who holds the interaction: metadata first, then chunks of at most 1 MiB, byte for byte', async () => {
    const content = randomBytes(40 * 1024 * 1024);
    const { desktop, interactionId, graphMessageId, attachmentId } = await acceptedWithAttachment(tenantA, dirA, 'anna', content);
    const parts: Buffer[] = [];
    let info: unknown;
    let first = true;
    for await (const message of desktop.downloadAttachment({ interactionId, graphMessageId, attachmentId })) {
      if (message.part?.$case === 'info') {
        expect(first).toBe(true);
        info = message.part.value;
      } else if (message.part?.$case === 'chunk') {
        expect(message.part.value.length).toBeLessThanOrEqual(1_048_576);
        parts.push(Buffer.from(message.part.value));
      }
      first = false;
    }
    expect(info).toMatchObject({
      attachmentId,
      name: 'scan.pdf',
      contentType: 'application/pdf',
      sizeBytes: content.length,
      contentSha256: sha256(content),
    });
    const received = Buffer.concat(parts);
    expect(sha256(received)).toBe(sha256(content));
    expect(received.equals(content)).toBe(true);
  });

  it("does not let an agent of tenant B download tenant A's attachment (NOT_FOUND), with A's ids or its own interaction", async () => {
    const content = randomBytes(10_000);
    const a = await acceptedWithAttachment(tenantA, dirA, 'anna', content);
    const b = await acceptedWithAttachment(tenantB, dirB, 'bert', randomBytes(100));
    const bertDesk = harness.desktop(await idp.token(dirB, 'oid-bert'));
    const download = (request: { interactionId: string; graphMessageId: string; attachmentId: string }) =>
      grpcError(
        (async () => {
          for await (const _part of bertDesk.downloadAttachment(request)) throw new Error('B received part of A’s attachment');
        })(),
      );
    expect((await download(a))?.code).toBe(Status.NOT_FOUND);
    // B's own interaction, A's message and attachment ids: the thread and the blob key are B's, so nothing is found.
    expect((await download({ ...a, interactionId: b.interactionId }))?.code).toBe(Status.NOT_FOUND);
    expect((await download({ ...b, attachmentId: '' }))?.code).toBe(Status.INVALID_ARGUMENT);
  });

  it("lets a supervisor of the tenant download an interaction's attachment byte for byte (GetInteractionAttachment); tenant B's supervisor gets NOT_FOUND", async () => {
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const a = await acceptedWithAttachment(tenantA, dirA, 'anna', content);
    const request = { interactionId: a.interactionId, graphMessageId: a.graphMessageId, attachmentId: a.attachmentId };
    const parts: Buffer[] = [];
    let info: unknown;
    for await (const message of harness.admin(tenantA).getInteractionAttachment(request)) {
      if (message.part?.$case === 'info') info = message.part.value;
      else if (message.part?.$case === 'chunk') parts.push(Buffer.from(message.part.value));
    }
    expect(info).toMatchObject({
      attachmentId: a.attachmentId,
      name: 'scan.pdf',
      sizeBytes: content.length,
      contentSha256: sha256(content),
    });
    expect(Buffer.concat(parts).equals(content)).toBe(true);

    const asTenantB = await grpcError(
      (async () => {
        for await (const _part of harness.admin(tenantB).getInteractionAttachment(request))
          throw new Error('tenant B received part of A’s attachment');
      })(),
    );
    expect(asTenantB?.code).toBe(Status.NOT_FOUND);
  });

  it('refuses an upload over the 150 MiB limit with INVALID_ARGUMENT naming metadata.size_bytes, and a bad name naming metadata.name', async () => {
    const desktop = harness.desktop(await idp.token(dirA, 'oid-anna'));
    const tooLarge = await grpcError(desktop.uploadReplyAttachment(uploadStream('huge.iso', randomBytes(100), 157_286_401)));
    expect(tooLarge?.code).toBe(Status.INVALID_ARGUMENT);
    expect(tooLarge?.details).toContain('metadata.size_bytes');
    const badName = await grpcError(desktop.uploadReplyAttachment(uploadStream('..\\boot.ini', randomBytes(100))));
    expect(badName?.code).toBe(Status.INVALID_ARGUMENT);
    expect(badName?.details).toContain('metadata.name');
  });

  it('removes an upload no reply referenced after its expiry; a reply then naming it gets INVALID_ARGUMENT naming the attachment', async () => {
    const { desktop, interactionId } = await acceptedWithAttachment(tenantA, dirA, 'anna', randomBytes(10));
    const { upload } = await desktop.uploadReplyAttachment(uploadStream('notes.txt', Buffer.from('forgotten')));
    const key = uploadBlobKey(tenantA, upload?.uploadId ?? '');
    expect(await harness.stores.blobs.stat(key)).toBeDefined();
    await waitFor(async () => (await harness.stores.blobs.stat(key)) === undefined, { timeoutMs: uploadTtlMs + 60_000 });
    const refused = await grpcError(
      desktop.reply({
        idempotencyKey: randomId('reply'),
        interactionId,
        content: {
          bodyText: 'see attached',
          attachments: [{ name: 'notes.txt', source: { $case: 'uploadId', value: upload?.uploadId ?? '' } }],
        } as never,
      } as never),
    );
    expect(refused?.code).toBe(Status.INVALID_ARGUMENT);
    expect(refused?.details).toContain('content.attachments[0].upload_id');
  });

  it('accepts a reply that attaches an uploaded 5 MB file: the outbound request names the upload, kept past its own expiry', async () => {
    const { desktop, interactionId } = await acceptedWithAttachment(tenantA, dirA, 'anna', randomBytes(10));
    const content = randomBytes(5 * 1024 * 1024);
    const { upload } = await desktop.uploadReplyAttachment(uploadStream('offer.pdf', content));
    expect(upload).toMatchObject({
      name: 'offer.pdf',
      contentType: 'application/pdf',
      sizeBytes: content.length,
      sha256: sha256(content),
    });
    const reply = await desktop.reply({
      idempotencyKey: randomId('reply'),
      interactionId,
      content: {
        bodyText: 'Our offer is attached.',
        attachments: [{ name: 'offer.pdf', source: { $case: 'uploadId', value: upload?.uploadId ?? '' } }],
      } as never,
    } as never);
    const request = await waitFor(() => outboundRequests.find((r) => r.sendId === reply.sendId), { timeoutMs: 90_000 });
    expect(request.content?.attachments[0]?.source).toEqual({ $case: 'uploadId', value: upload?.uploadId });
    const stored = await harness.stores.blobs.stat(uploadBlobKey(tenantA, upload?.uploadId ?? ''));
    expect(stored?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 24 * 60 * 60_000);
  });
});
