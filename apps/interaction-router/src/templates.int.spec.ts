import { randomBytes, randomUUID } from 'node:crypto';
import { Status, type ClientError } from 'nice-grpc';
import { Agent, TemplateKind } from '@mailroute/contracts';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { uploadBlobKey } from '@mailroute/persistence';
import {
  collectStream,
  createTestIdentityProvider,
  startHarness,
  watchOutboundRequests,
  type Harness,
} from '../test/router-harness';

/**
 * Message templates through the workload-manager API and the agent desktop: one router replica on
 * real Kafka, FerretDB and gRPC over sockets.
 */
const slow = { timeoutMs: 90_000, intervalMs: 100 };

async function failure(call: Promise<unknown>): Promise<{ code: Status | undefined; details: string }> {
  const error = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as ClientError | undefined;
  return { code: error?.code, details: error?.details ?? '' };
}

describe('message templates through the router', () => {
  const tenant = randomId('t-tpl');
  const directory = randomId('dir-tpl');
  let idp: Awaited<ReturnType<typeof createTestIdentityProvider>>;
  let harness: Harness;
  const abort = new AbortController();

  beforeAll(async () => {
    idp = await createTestIdentityProvider(new Map([[directory, tenant]]));
    harness = await startHarness({ infra: testInfra(), replicas: 1, tenants: [tenant], verifier: idp.verifier });
  });

  afterAll(async () => {
    abort.abort();
    await harness?.close();
  });

  it('stores logic-less templates, searches them, and renders customer text with markup as text', async () => {
    const admin = harness.admin(tenant);
    expect(
      await failure(
        admin.createTemplate({
          templateId: 'raw',
          template: { displayName: 'Raw', html: '<p>{{{customer_name}}}</p>' } as never,
        }),
      ),
    ).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: 'template.html: uses unescaped output ({{{customer_name}}} or {{&customer_name}}): use {{customer_name}}',
    });
    expect(
      await failure(
        admin.createTemplate({ templateId: 'typo', template: { displayName: 'Typo', text: 'Hi {{custmer_name}}' } as never }),
      ),
    ).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^template.text: uses an unknown placeholder/),
    });

    await admin.createQueue({ queueId: 'support', queue: { displayName: 'Support' } });
    await admin.createQueue({ queueId: 'billing', queue: { displayName: 'Billing' } });
    await admin.createTemplate({
      templateId: 'greeting',
      template: {
        displayName: 'Greeting',
        subject: 'Re: {{subject}}',
        html: '<p>Dear {{customer_name}},</p><p>{{agent_name}}, {{queue_name}}</p>',
        text: 'Dear {{customer_name}},\n{{agent_name}}, {{queue_name}}',
      } as never,
    });
    await admin.createTemplate({
      templateId: 'refund',
      template: { displayName: 'Refund policy', queueIds: ['billing'], text: 'Refunds take 5 days.' } as never,
    });
    await admin.createTemplate({
      templateId: 'ack',
      template: {
        displayName: 'We got it',
        kind: TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT,
        text: 'Thanks, {{customer_name}}.',
      } as never,
    });

    const search = await admin.listTemplates({ query: 'REFUNDS', kind: TemplateKind.TEMPLATE_KIND_UNSPECIFIED });
    expect(search.templates.map((t) => t.templateId)).toEqual(['refund']);
    const acks = await admin.listTemplates({ query: '', kind: TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT });
    expect(acks.templates.map((t) => t.templateId)).toEqual(['ack']);
    const paged = await admin.listTemplates({ query: '', kind: 0, page: { pageSize: 2, pageToken: '' } });
    const rest = await admin.listTemplates({ query: '', kind: 0, page: { pageSize: 2, pageToken: paged.nextPageToken } });
    expect([...paged.templates, ...rest.templates].map((t) => t.templateId)).toEqual(['ack', 'greeting', 'refund']);
    expect(rest.nextPageToken).toBe('');

    const preview = await admin.previewTemplate({
      templateId: 'greeting',
      values: { customer_name: '<script>alert(1)</script>', agent_name: 'Ann' },
    });
    expect(preview.rendered?.html).toBe('<p>Dear &lt;script&gt;alert(1)&lt;&#x2F;script&gt;,</p><p>Ann, </p>');
    expect(await failure(admin.previewTemplate({ templateId: 'greeting', values: { password: 'x' } }))).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^values: "password" is not a placeholder/),
    });

    // An agent of the support queue sees the canned responses of every queue and of support only, and renders one.
    await admin.createAgent({
      agentId: 'ann',
      agent: Agent.fromPartial({ displayName: 'Ann Agent', entraObjectId: 'oid-ann', queueIds: ['support'], capacity: 2 }),
    });
    const desktop = harness.desktop(await idp.token(directory, 'oid-ann'));
    const stream = collectStream(desktop.connect({ clientInstanceId: 'ann-desk' }, { signal: abort.signal }));
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: 'support',
      message: {
        subject: 'Broken <b>order</b>',
        from: { address: 'eve@customer.example', name: '<img src=x onerror=alert(1)>Eve' },
        conversationId: `conv-${interactionId}`,
        graphMessageId: `g-${interactionId}`,
      } as never,
    });
    await waitFor(() => stream.offers().some((offer) => offer.interaction?.interactionId === interactionId), slow);

    expect((await desktop.listMyTemplates({ query: '' })).templates.map((t) => t.templateId)).toEqual(['greeting']);
    const rendered = await desktop.renderTemplate({ templateId: 'greeting', interactionId });
    expect(rendered.rendered).toEqual({
      templateId: 'greeting',
      subject: 'Re: Broken <b>order</b>',
      html: '<p>Dear &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;Eve,</p><p>Ann Agent, Support</p>',
      text: 'Dear <img src=x onerror=alert(1)>Eve,\nAnn Agent, Support',
      attachments: [],
    });
    expect(await failure(desktop.renderTemplate({ templateId: 'refund', interactionId }))).toMatchObject({
      code: Status.NOT_FOUND,
    });
    expect(await failure(desktop.renderTemplate({ templateId: 'ack', interactionId }))).toMatchObject({ code: Status.NOT_FOUND });
  });

  it("stores template attachments once (size and content type checked), renders them for an agent's reply, and the reply's send names the stored file", async () => {
    const admin = harness.admin(tenant);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(2048)]);
    const upload = (name: string, content: Buffer, contentType = '', sizeBytes = content.length) =>
      admin.uploadTemplateAttachment(
        (async function* () {
          yield { part: { $case: 'metadata' as const, value: { name, contentType, sizeBytes, sha256: '' } } };
          yield { part: { $case: 'chunk' as const, value: content } };
        })(),
      );
    expect(await failure(upload('big.pdf', pdf, '', 10_485_761))).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^metadata.size_bytes: must be at most 10485760 bytes/),
    });
    expect(await failure(upload('tool.exe', pdf, 'application/x-msdownload'))).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^metadata.content_type: must be PDF/),
    });
    expect(await failure(upload('fake.pdf', Buffer.from('MZ\u0090\u0000 not a pdf')))).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^metadata.content_type: does not match the content/),
    });
    const { upload: stored } = await upload('terms.pdf', pdf);
    expect(stored).toMatchObject({ name: 'terms.pdf', contentType: 'application/pdf', sizeBytes: pdf.length });
    // Kept 48 hours for a template to list it (template-files.int.spec.ts follows a file's life).
    expect(stored?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 47 * 3_600_000);
    const uploadId = stored?.uploadId ?? '';

    expect(
      await failure(
        admin.createTemplate({
          templateId: 'sig-with-file',
          template: {
            displayName: 'S',
            kind: TemplateKind.TEMPLATE_KIND_SIGNATURE,
            text: 'x',
            attachments: [{ uploadId }],
          } as never,
        }),
      ),
    ).toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(/^template.attachments:/) });
    expect(
      await failure(
        admin.createTemplate({
          templateId: 'bad-file',
          template: { displayName: 'B', text: 'x', attachments: [{ uploadId: randomUUID() }] } as never,
        }),
      ),
    ).toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(/^template.attachments\[0\].upload_id:/) });
    const { template } = await admin.createTemplate({
      templateId: 'terms',
      template: {
        displayName: 'Our terms',
        text: 'Our terms are attached, {{customer_name}}.',
        attachments: [{ uploadId }],
      } as never,
    });
    expect(template?.attachments).toEqual([
      { uploadId, name: 'terms.pdf', contentType: 'application/pdf', sizeBytes: pdf.length },
    ]);
    expect((await harness.stores.blobs.stat(uploadBlobKey(tenant, uploadId)))?.expiresAt).toBeUndefined();
    // Another template lists the same stored file: nothing is copied.
    await admin.createTemplate({
      templateId: 'terms-short',
      template: { displayName: 'Terms (short)', text: 'Attached.', attachments: [{ uploadId }] } as never,
    });
    const preview = await admin.previewTemplate({ templateId: 'terms', values: { customer_name: 'Eve' } });
    expect(preview.rendered?.attachments).toEqual([
      {
        name: 'terms.pdf',
        contentType: 'application/pdf',
        isInline: false,
        contentId: '',
        source: { $case: 'uploadId', value: uploadId },
      },
    ]);

    // An agent renders it for an interaction and replies with its attachments: the send names the stored file.
    await admin.createQueue({ queueId: 'docs', queue: { displayName: 'Docs' } });
    await admin.createAgent({
      agentId: 'bea',
      agent: Agent.fromPartial({ displayName: 'Bea', entraObjectId: 'oid-bea', queueIds: ['docs'], capacity: 1 }),
    });
    const desktop = harness.desktop(await idp.token(directory, 'oid-bea'));
    const stream = collectStream(desktop.connect({ clientInstanceId: 'bea-desk' }, { signal: abort.signal }));
    const outbound = await watchOutboundRequests(harness, tenant);
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: 'docs',
      message: {
        subject: 'Terms please',
        from: { address: 'dan@customer.example', name: 'Dan' },
        conversationId: `conv-${interactionId}`,
        graphMessageId: `g-${interactionId}`,
      } as never,
    });
    const offer = await waitFor(() => stream.offers().find((o) => o.interaction?.interactionId === interactionId), slow);
    await desktop.accept({ offerId: offer.offerId });
    const { rendered } = await desktop.renderTemplate({ templateId: 'terms', interactionId });
    expect(rendered?.text).toBe('Our terms are attached, Dan.');
    const reply = await desktop.reply({
      idempotencyKey: randomId('reply'),
      interactionId,
      content: { bodyText: rendered?.text ?? '', attachments: rendered?.attachments ?? [] } as never,
    } as never);
    const request = await waitFor(() => outbound.requests.find((r) => r.sendId === reply.sendId), slow);
    expect(request.content?.attachments).toEqual([
      expect.objectContaining({ name: 'terms.pdf', source: { $case: 'uploadId', value: uploadId } }),
    ]);
    // Still the template's: kept while a template lists it, not turned into an expiring reply upload.
    expect((await harness.stores.blobs.stat(uploadBlobKey(tenant, uploadId)))?.expiresAt).toBeUndefined();
    await outbound.subscription.close();

    expect(await failure(admin.deleteTemplateAttachment({ uploadId }))).toMatchObject({
      code: Status.FAILED_PRECONDITION,
    });
    await admin.deleteTemplate({ templateId: 'terms', etag: '' });
    await admin.deleteTemplate({ templateId: 'terms-short', etag: '' });
    await admin.deleteTemplateAttachment({ uploadId });
    expect(await failure(admin.deleteTemplateAttachment({ uploadId }))).toMatchObject({ code: Status.NOT_FOUND });
  });

  it('keeps mailbox settings and the signature rule, refusing templates of the wrong kind and bad rules by field', async () => {
    const admin = harness.admin(tenant);
    await admin.createTemplate({
      templateId: 'box-sig',
      template: {
        displayName: 'Mailbox signature',
        kind: TemplateKind.TEMPLATE_KIND_SIGNATURE,
        text: '{{mailbox_address}}',
      } as never,
    });
    expect(
      await failure(
        admin.createMailboxSettings({ mailboxId: 'support-box', settings: { signatureTemplateId: 'greeting' } as never }),
      ),
    ).toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(/^settings.signature_template_id:/) });
    const { settings } = await admin.createMailboxSettings({
      mailboxId: 'support-box',
      settings: { signatureTemplateId: 'box-sig' } as never,
    });
    expect(settings).toMatchObject({ mailboxId: 'support-box', signatureTemplateId: 'box-sig', etag: '1' });
    expect((await admin.listMailboxSettings({})).settings.map((s) => s.mailboxId)).toEqual(['support-box']);

    const defaults = await admin.getSignatureRule({});
    expect(defaults.rule?.parts).toEqual([{ sources: [1, 2, 3] }]);
    expect(defaults.rule?.etag).toBe('');
    expect(
      await failure(admin.setSignatureRule({ rule: { parts: [{ sources: [1] }, { sources: [1] }] } as never, etag: '' })),
    ).toEqual({ code: Status.INVALID_ARGUMENT, details: 'rule.parts[1].sources[0]: names a source already used in the rule' });
    const set = await admin.setSignatureRule({ rule: { parts: [{ sources: [1] }, { sources: [2, 3] }] } as never, etag: '' });
    expect(set.rule).toMatchObject({ parts: [{ sources: [1] }, { sources: [2, 3] }], etag: '1' });
    expect(await failure(admin.setSignatureRule({ rule: { parts: [] } as never, etag: '7' }))).toMatchObject({
      code: Status.ABORTED,
    });
    expect((await admin.getSignatureRule({})).rule?.parts).toEqual([{ sources: [1] }, { sources: [2, 3] }]);
  });
  it('refuses to delete a template a queue, an agent or a mailbox still names, naming which (a few ids, then how many more)', async () => {
    const admin = harness.admin(tenant);
    await admin.createTemplate({
      templateId: 'used-ack',
      template: { displayName: 'Ack', kind: TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT, text: 'Got it.' } as never,
    });
    await admin.createTemplate({
      templateId: 'used-sig',
      template: { displayName: 'Sig', kind: TemplateKind.TEMPLATE_KIND_SIGNATURE, text: '-- {{agent_name}}' } as never,
    });
    await admin.createQueue({
      queueId: 'acked',
      queue: { displayName: 'Acked', acknowledgement: { templateId: 'used-ack' } } as never,
    });
    await admin.createAgent({
      agentId: 'signer',
      agent: Agent.fromPartial({ displayName: 'Signer', entraObjectId: 'oid-signer', signatureTemplateId: 'used-sig' }),
    });
    for (const mailboxId of ['box-1', 'box-2', 'box-3', 'box-4', 'box-5'])
      await admin.createMailboxSettings({ mailboxId, settings: { signatureTemplateId: 'used-sig' } as never });

    expect(await failure(admin.deleteTemplate({ templateId: 'used-ack', etag: '' }))).toEqual({
      code: Status.FAILED_PRECONDITION,
      details: 'template used-ack is still used by queues acked: change those first',
    });
    expect(await failure(admin.deleteTemplate({ templateId: 'used-sig', etag: '' }))).toEqual({
      code: Status.FAILED_PRECONDITION,
      details:
        'template used-sig is still used by agents signer; mailbox settings box-1, box-2, box-3 and 2 more: change those first',
    });
    expect((await admin.getTemplate({ templateId: 'used-sig' })).template?.templateId).toBe('used-sig');

    // Once nothing names them, they go.
    await admin.updateQueue({
      queueId: 'acked',
      queue: { acknowledgement: undefined } as never,
      updateMask: ['acknowledgement'],
      etag: '',
    });
    await admin.deleteTemplate({ templateId: 'used-ack', etag: '' });
    await admin.deleteAgent({ agentId: 'signer', etag: '' });
    for (const mailboxId of ['box-1', 'box-2', 'box-3', 'box-4', 'box-5'])
      await admin.deleteMailboxSettings({ mailboxId, etag: '' });
    await admin.deleteTemplate({ templateId: 'used-sig', etag: '' });
    expect(await failure(admin.getTemplate({ templateId: 'used-sig' }))).toMatchObject({ code: Status.NOT_FOUND });
  });
});
