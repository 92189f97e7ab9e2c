import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClientError, Metadata, Status, createChannel, createClient, type Channel } from 'nice-grpc';
import {
  ActorKind,
  InteractionOrder,
  InteractionRouterServiceDefinition,
  InteractionState,
  SendState,
  TemplateKind,
  type Interaction,
  type InteractionRouterServiceClient,
  type OutboundThreadMessage,
} from '@mailroute/contracts';
import { createGraphMailClient } from '@mailroute/graph-mail';
import type { GraphSandbox, GraphSandboxEndpoints, SentRecord } from '@mailroute/graph-sandbox';
import {
  createSandboxMailTenant,
  createSandboxTokenProvider,
  freePort,
  randomId,
  startDedicatedKafka,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  type DedicatedKafka,
  type SandboxMailTenant,
  type ServiceProcess,
} from '@mailroute/testing';

// Automatic acknowledgements through the running services (issue 17): the all-in-one host as a
// process on Kafka (this suite's own broker: another suite's outbound-send must not take these
// sends) and FerretDB, two tenants of the graph sandbox standing in for two Microsoft 365 tenants,
// each with one routed mailbox whose queue acknowledges new mail.

const slow = { timeoutMs: 180_000, intervalMs: 1_000 };

interface TenantUnderTest {
  id: string;
  sandbox: SandboxMailTenant;
  address: string;
  admin: InteractionRouterServiceClient;
}

describe('automatic acknowledgements through the running services', () => {
  let kafka: DedicatedKafka;
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let host: ServiceProcess | undefined;
  let channel: Channel | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-ack-'));
  const database = randomId('ack').replace(/[^A-Za-z0-9_-]/g, '_');
  const tenants: TenantUnderTest[] = [];

  beforeAll(async () => {
    kafka = await startDedicatedKafka();
    ({ sandbox, endpoints } = await startTestGraphSandbox());
    const directories = [await createSandboxMailTenant(endpoints), await createSandboxMailTenant(endpoints)];
    const routerPort = await freePort();
    const configFile = path.join(dir, 'mailroute.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        dataDir: 'data',
        ports: {
          authBroker: await freePort(),
          mailboxFetch: await freePort(),
          interactionRouter: routerPort,
          outboundSend: await freePort(),
          webGateway: await freePort(),
        },
        sandbox: { enabled: false },
        pollIntervalCapMs: 1000,
        bus: { kind: 'kafka', brokers: [kafka.brokers] },
        store: { kind: 'mongodb', url: testInfra().mongoUrl, database },
        agentSignIn: { authorityHost: endpoints.baseUrl, audience: directories[0]?.clientId },
        tenants: directories.map((directory, index) => ({
          id: `t${index}`,
          directoryId: directory.directoryId,
          clientId: directory.clientId,
          clientSecretEnv: `TENANT_${index}_SECRET`,
          clientSecretExpires: new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10),
          authorityHost: endpoints.baseUrl,
          graphEndpoint: endpoints.baseUrl,
          queues: [{ id: 'support' }],
          mailboxes: [{ id: 'support', address: directory.mailboxes[0], queue: 'support', pollIntervalSeconds: 10 }],
        })),
      }),
    );
    host = startServiceProcess('apps/mailroute/src/main.ts', {
      MAILROUTE_CONFIG: configFile,
      NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
      ...Object.fromEntries(directories.map((directory, index) => [`TENANT_${index}_SECRET`, directory.clientSecret])),
    });
    const running = host;
    await waitFor(() => running.output.some((line) => line.startsWith('mailroute: ready')) || running.child.exitCode !== null, {
      timeoutMs: 180_000,
      description: 'the host to be ready',
    });
    if (running.child.exitCode !== null) throw new Error(`the host exited:\n${running.output.join('\n')}`);
    const keys = (
      JSON.parse(readFileSync(path.join(dir, 'data', 'host-secrets.json'), 'utf8')) as { apiKeys: Record<string, string> }
    ).apiKeys;
    channel = createChannel(`127.0.0.1:${routerPort}`);
    for (const [index, directory] of directories.entries()) {
      const id = `t${index}`;
      const admin = createClient(InteractionRouterServiceDefinition, channel, {
        '*': { metadata: Metadata({ authorization: `Bearer ${keys[id] ?? ''}` }) },
      });
      tenants.push({ id, sandbox: directory, address: directory.mailboxes[0] ?? '', admin });
    }
  }, 420_000);

  afterAll(async () => {
    channel?.close();
    await host?.stop();
    await sandbox?.stop();
    await kafka?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  async function enableAcknowledgements(tenant: TenantUnderTest): Promise<void> {
    await tenant.admin.createTemplate({
      templateId: 'ack',
      template: {
        displayName: 'We got your message',
        kind: TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT,
        queueIds: [],
        subject: '',
        html: '<p>Dear {{customer_name}}, thank you: {{queue_name}} will answer soon.</p>',
        text: 'Dear {{customer_name}}, thank you: {{queue_name}} will answer soon.',
      },
    });
    await tenant.admin.updateQueue({
      queueId: 'support',
      queue: {
        displayName: 'Support',
        acknowledgement: { enabled: true, templateId: 'ack', outOfHoursTemplateId: '', period: { seconds: 3600, nanos: 0 } },
      },
      updateMask: ['display_name', 'acknowledgement'],
      etag: '',
    });
  }

  /** The tenant's interaction whose subject contains `tag`, once it is QUEUED (routed, acknowledgement decided). */
  async function queuedInteraction(tenant: TenantUnderTest, tag: string): Promise<Interaction> {
    return waitFor(
      async () => {
        const page = await tenant.admin.searchInteractions({
          page: { pageSize: 10, pageToken: '' },
          filter: { subjectContains: tag },
          order: InteractionOrder.INTERACTION_ORDER_UNSPECIFIED,
        });
        return page.interactions.find((interaction) => interaction.state === InteractionState.INTERACTION_STATE_QUEUED);
      },
      { ...slow, description: `tenant ${tenant.id}: a QUEUED interaction "${tag}"` },
    );
  }

  async function outboundOf(tenant: TenantUnderTest, interactionId: string): Promise<OutboundThreadMessage[]> {
    const { messages } = await tenant.admin.listInteractionMessages({ interactionId, page: { pageSize: 20, pageToken: '' } });
    return messages.flatMap((message) => (message.message?.$case === 'outbound' ? [message.message.value] : []));
  }

  async function sentTo(tenant: TenantUnderTest, address: string): Promise<SentRecord[]> {
    const { value } = await endpoints.admin.sent(tenant.sandbox.directoryId, tenant.address);
    return value.filter((record) =>
      record.toRecipients.some((to) => to.emailAddress.address.toLowerCase() === address.toLowerCase()),
    );
  }

  const header = (record: SentRecord, name: string) =>
    record.internetMessageHeaders.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase())?.value;

  it('refuses acknowledgement and signature settings that name no template of the right kind, naming the field', async () => {
    const [tenant] = tenants;
    if (!tenant) throw new Error('no tenant');
    const refused = await tenant.admin
      .updateQueue({
        queueId: 'support',
        queue: { acknowledgement: { enabled: true, templateId: '', outOfHoursTemplateId: '', period: undefined } },
        updateMask: ['acknowledgement'],
        etag: '',
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ClientError);
    expect((refused as ClientError).code).toBe(Status.INVALID_ARGUMENT);
    expect((refused as ClientError).details).toContain('queue.acknowledgement.template_id');
    for (const [call, field] of [
      [
        () =>
          tenant.admin.updateQueue({
            queueId: 'support',
            queue: { signatureTemplateId: 'nope' },
            updateMask: ['signature_template_id'],
            etag: '',
          }),
        'queue.signature_template_id',
      ],
      [
        () =>
          tenant.admin.createAgent({
            agentId: 'sig',
            agent: {
              displayName: 'Sig',
              entraObjectId: 'oid-sig',
              queueIds: ['support'],
              capacity: 1,
              signatureTemplateId: 'nope',
            },
          }),
        'agent.signature_template_id',
      ],
    ] as const) {
      const error = await call().catch((caught: unknown) => caught);
      expect((error as ClientError).code).toBe(Status.INVALID_ARGUMENT);
      expect((error as ClientError).details).toContain(field);
    }
  });

  it('acknowledges a customer once, in the thread, with the automatic headers; not the follow-up within the period nor an auto-reply', async () => {
    const [tenant] = tenants;
    if (!tenant) throw new Error('no tenant');
    await enableAcknowledgements(tenant);
    const customer = `${randomId('customer')}@outside.example`;
    const first = randomId('first');
    await endpoints.admin.deliver(tenant.sandbox.directoryId, tenant.address, {
      from: { address: customer, name: 'Ann <b>Customer</b>' },
      subject: `Order missing ${first}`,
      body: 'Where is my order?',
    });
    const interaction = await queuedInteraction(tenant, first);
    const [ack, ...more] = await outboundOf(tenant, interaction.interactionId);
    expect(more).toEqual([]);
    expect(ack?.automatic).toBe(true);
    expect(ack?.sentBy?.kind).toBe(ActorKind.ACTOR_KIND_SYSTEM);
    expect(ack?.content?.bodyText).toContain('thank you: Support will answer soon.');
    expect(ack?.content?.bodyHtml).toContain('Dear Ann &lt;b&gt;Customer&lt;/b&gt;');

    const [sent, ...again] = await waitFor(async () => {
      const records = await sentTo(tenant, customer);
      return records.length > 0 ? records : undefined;
    }, slow);
    expect(again).toEqual([]);
    expect(sent?.via).toBe('send');
    expect(sent?.inReplyTo).toBe(interaction.internetMessageId);
    expect(header(sent as SentRecord, 'Auto-Submitted')).toBe('auto-replied');
    expect(header(sent as SentRecord, 'X-Auto-Response-Suppress')).toBe('All');
    // Not a reply: the interaction stays QUEUED without a first response.
    await waitFor(
      async () => (await outboundOf(tenant, interaction.interactionId))[0]?.sendState === SendState.SEND_STATE_SENT || undefined,
      slow,
    );
    const { interaction: after } = await tenant.admin.getInteraction({ interactionId: interaction.interactionId });
    expect(after?.state).toBe(InteractionState.INTERACTION_STATE_QUEUED);
    expect(after?.firstRepliedAt).toBeUndefined();

    // A new conversation of the same customer within the period: no second acknowledgement.
    const followUp = randomId('follow');
    await endpoints.admin.deliver(tenant.sandbox.directoryId, tenant.address, {
      from: { address: customer, name: 'Ann' },
      subject: `Also ${followUp}`,
      body: 'And one more thing.',
    });
    const second = await queuedInteraction(tenant, followUp);
    expect(await outboundOf(tenant, second.interactionId)).toEqual([]);

    // An out-of-office of another customer: automated mail gets none.
    const away = randomId('away');
    await endpoints.admin.deliver(tenant.sandbox.directoryId, tenant.address, {
      from: { address: `${randomId('other')}@outside.example` },
      subject: `Automatic reply: ${away}`,
      body: 'I am out of the office.',
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    const automatic = await queuedInteraction(tenant, away);
    expect(automatic.automation?.autoReply).toBe(true);
    expect(await outboundOf(tenant, automatic.interactionId)).toEqual([]);
    expect(await sentTo(tenant, customer)).toHaveLength(1);
  });

  it('threads mail that quotes the reference from the acknowledged address; a forged reference from another address or tenant starts a new interaction', async () => {
    const [a, b] = tenants;
    if (!a || !b) throw new Error('no tenants');
    await a.admin.updateQueue({
      queueId: 'support',
      queue: {
        acknowledgement: {
          enabled: true,
          templateId: 'ack',
          outOfHoursTemplateId: '',
          period: { seconds: 60, nanos: 0 },
          referencePrefix: 'ACME',
        },
      },
      updateMask: ['acknowledgement'],
      etag: '',
    });
    const customer = `${randomId('ref')}@outside.example`;
    const tag = randomId('printer');
    await endpoints.admin.deliver(a.sandbox.directoryId, a.address, {
      from: { address: customer },
      subject: `Broken printer ${tag}`,
      body: '?',
    });
    const first = await queuedInteraction(a, tag);
    const [ack] = await outboundOf(a, first.interactionId);
    const reference = /\[#(ACME-\d+)\]/.exec(ack?.content?.subject ?? '')?.[1];
    expect(ack?.content?.subject).toBe(`RE: Broken printer ${tag} [#${reference}]`);
    const sent = await waitFor(async () => (await sentTo(a, customer))[0], slow);
    expect(sent.subject).toContain(`[#${reference}]`);

    // The customer's mail client lost In-Reply-To/References: the subject's reference threads it.
    const quoting = randomId('quoting');
    await endpoints.admin.deliver(a.sandbox.directoryId, a.address, {
      from: { address: customer.toUpperCase() },
      subject: `Still broken [#${reference}] ${quoting}`,
      body: 'More details.',
    });
    await waitFor(
      async () => {
        const { interaction } = await a.admin.getInteraction({ interactionId: first.interactionId });
        return (interaction?.inboundMessageCount ?? 0) === 2 || undefined;
      },
      { ...slow, description: 'the quoting mail to join the first interaction' },
    );

    // The same reference from another address, and in another tenant: new interactions.
    const forged = randomId('forged');
    await endpoints.admin.deliver(a.sandbox.directoryId, a.address, {
      from: { address: `${randomId('someone')}@outside.example` },
      subject: `About [#${reference}] ${forged}`,
      body: 'Show me that ticket.',
    });
    await endpoints.admin.deliver(b.sandbox.directoryId, b.address, {
      from: { address: customer },
      subject: `About [#${reference}] ${forged}`,
      body: 'Show me that ticket.',
    });
    for (const tenant of [a, b]) {
      const other = await queuedInteraction(tenant, forged);
      expect(other.interactionId).not.toBe(first.interactionId);
      expect(other.mergedIntoInteractionId).toBe('');
    }
    const { interaction: unchanged } = await a.admin.getInteraction({ interactionId: first.interactionId });
    expect(unchanged?.inboundMessageCount).toBe(2);
  });

  it("two tenants acknowledging each other's mailboxes: one acknowledgement each, no loop", async () => {
    const [a, b] = tenants;
    if (!a || !b) throw new Error('no tenants');
    await enableAcknowledgements(b).catch((error: unknown) => {
      if (!(error instanceof ClientError && error.code === Status.ALREADY_EXISTS)) throw error;
    });
    const tag = randomId('loop');
    // Someone at each tenant's mailbox address writes to the other's mailbox.
    await endpoints.admin.deliver(a.sandbox.directoryId, a.address, {
      from: { address: b.address },
      subject: `From B ${tag}`,
      body: 'Hello A',
    });
    await endpoints.admin.deliver(b.sandbox.directoryId, b.address, {
      from: { address: a.address },
      subject: `From A ${tag}`,
      body: 'Hello B',
    });
    // Each acknowledgement arrives in the other tenant's mailbox, becomes an interaction there
    // (automated: Auto-Submitted and mailroute's own send header) and is not acknowledged in turn.
    for (const [sender, receiver] of [
      [a, b],
      [b, a],
    ] as const) {
      const received = await queuedInteraction(receiver, `From ${receiver === b ? 'B' : 'A'} ${tag}`);
      expect(received.automation?.autoReply).toBe(true);
      expect(received.automation?.loopSuspected).toBe(true);
      expect(await outboundOf(receiver, received.interactionId)).toEqual([]);
      expect(await sentTo(sender, receiver.address)).toHaveLength(1);
    }
  });

  it("a mailbox's acknowledgement sends its template's attachment byte for byte; the reference shows on the interaction and finds it", async () => {
    const [tenant] = tenants;
    if (!tenant) throw new Error('no tenant');
    // The queue's own acknowledgement off: the mailbox's settings decide.
    await tenant.admin.updateQueue({
      queueId: 'support',
      queue: { acknowledgement: { enabled: false, templateId: '', outOfHoursTemplateId: '', referencePrefix: '' } },
      updateMask: ['acknowledgement'],
      etag: '',
    });
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(200_000)]);
    const { upload } = await tenant.admin.uploadTemplateAttachment(
      (async function* () {
        yield {
          part: { $case: 'metadata' as const, value: { name: 'terms.pdf', contentType: '', sizeBytes: pdf.length, sha256: '' } },
        };
        yield { part: { $case: 'chunk' as const, value: pdf } };
      })(),
    );
    await tenant.admin.createTemplate({
      templateId: 'ack-docs',
      template: {
        displayName: 'We got it (with our terms)',
        kind: TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT,
        text: 'Thank you, {{customer_name}}. Our reference: {{interaction_reference}}. Our terms are attached.',
        attachments: [{ uploadId: upload?.uploadId ?? '' }],
      } as never,
    });
    await tenant.admin.createMailboxSettings({
      mailboxId: 'support',
      settings: {
        acknowledgement: { enabled: true, templateId: 'ack-docs', outOfHoursTemplateId: '', referencePrefix: 'DOCS' },
      } as never,
    });
    const customer = `${randomId('docs')}@outside.example`;
    const tag = randomId('terms');
    await endpoints.admin.deliver(tenant.sandbox.directoryId, tenant.address, {
      from: { address: customer, name: 'Dora' },
      subject: `Your terms ${tag}`,
      body: 'Please send your terms.',
    });
    const interaction = await queuedInteraction(tenant, tag);
    expect(interaction.reference).toMatch(/^DOCS-[1-9]\d*$/);
    const found = await tenant.admin.searchInteractions({
      page: { pageSize: 10, pageToken: '' },
      filter: { reference: `[#${interaction.reference.toLowerCase()}]` } as never,
      order: InteractionOrder.INTERACTION_ORDER_UNSPECIFIED,
    });
    expect(found.interactions.map((i) => i.interactionId)).toEqual([interaction.interactionId]);

    const sent = await waitFor(async () => (await sentTo(tenant, customer))[0], slow);
    expect(sent.subject).toContain(`[#${interaction.reference}]`);
    expect(sent.body.content).toContain(`Our reference: ${interaction.reference}.`);
    expect(sent.attachments).toEqual([{ name: 'terms.pdf', contentType: 'application/pdf', size: expect.any(Number) }]);
    // Read back through Graph from the mailbox's Sent Items.
    const copy = await waitFor(
      async () =>
        (await endpoints.admin.folderMessages(tenant.sandbox.directoryId, tenant.address, 'sentitems')).value.find((message) =>
          message.subject.includes(`[#${interaction.reference}]`),
        ),
      slow,
    );
    const mailbox = createGraphMailClient({
      tokens: createSandboxTokenProvider(endpoints, new Map([[tenant.id, tenant.sandbox]])),
    }).mailbox({ tenantId: tenant.id, address: tenant.address, principal: { kind: 'app-only', credentialsId: 'default' } });
    const [attachment, ...others] = await mailbox.listAttachments(copy.id);
    expect(others).toEqual([]);
    const content = await mailbox.getAttachmentContent(copy.id, attachment?.id ?? '');
    expect(Buffer.from(content).equals(pdf)).toBe(true);
  });

  it('mail that arrives while the queue is closed gets exactly one out-of-hours acknowledgement, with the automatic headers, and waits QUEUED', async () => {
    const [, tenant] = tenants;
    if (!tenant) throw new Error('no tenant');
    await enableAcknowledgements(tenant).catch((error: unknown) => {
      if (!(error instanceof ClientError && error.code === Status.ALREADY_EXISTS)) throw error;
    });
    // Open one hour a day, twelve hours away from now (UTC): closed for the whole test.
    const opens = new Date().getUTCHours() < 12 ? '20:00' : '02:00';
    const closes = opens === '20:00' ? '21:00' : '03:00';
    await tenant.admin.createCalendar({
      calendarId: 'one-hour',
      calendar: {
        displayName: 'One hour a day',
        timeZone: 'UTC',
        weeklyHours: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, ranges: [{ start: opens, end: closes }] })),
        holidays: [],
        exceptions: [],
      } as never,
    });
    await tenant.admin.createTemplate({
      templateId: 'closed-now',
      template: {
        displayName: 'We are closed',
        kind: TemplateKind.TEMPLATE_KIND_OUT_OF_HOURS,
        text: 'Dear {{customer_name}}, we are closed; {{queue_name}} answers when we open.',
      } as never,
    });
    await tenant.admin.updateQueue({
      queueId: 'support',
      queue: {
        hours: { calendarId: 'one-hour' },
        acknowledgement: {
          enabled: true,
          templateId: 'ack',
          outOfHoursTemplateId: 'closed-now',
          period: { seconds: 3600, nanos: 0 },
        },
      } as never,
      updateMask: ['hours', 'acknowledgement'],
      etag: '',
    });
    const customer = `${randomId('night')}@outside.example`;
    const tag = randomId('late');
    await endpoints.admin.deliver(tenant.sandbox.directoryId, tenant.address, {
      from: { address: customer, name: 'Nina' },
      subject: `After hours ${tag}`,
      body: 'Anyone there?',
    });
    const interaction = await queuedInteraction(tenant, tag);
    const [ack, ...more] = await outboundOf(tenant, interaction.interactionId);
    expect(more).toEqual([]);
    expect(ack?.automatic).toBe(true);
    expect(ack?.content?.bodyText).toBe('Dear Nina, we are closed; Support answers when we open.');
    await waitFor(
      async () => (await outboundOf(tenant, interaction.interactionId))[0]?.sendState === SendState.SEND_STATE_SENT || undefined,
      slow,
    );
    const [sent, ...again] = await sentTo(tenant, customer);
    expect(again).toEqual([]);
    expect(sent?.inReplyTo).toBe(interaction.internetMessageId);
    expect(header(sent as SentRecord, 'Auto-Submitted')).toBe('auto-replied');
    expect(header(sent as SentRecord, 'X-Auto-Response-Suppress')).toBe('All');
    const { interaction: waiting } = await tenant.admin.getInteraction({ interactionId: interaction.interactionId });
    expect(waiting?.state).toBe(InteractionState.INTERACTION_STATE_QUEUED);
    expect(waiting?.firstRepliedAt).toBeUndefined();
  });
});
