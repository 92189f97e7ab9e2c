import { randomBytes } from 'node:crypto';
import {
  AgentPresence,
  AuthBrokerServiceDefinition,
  DelegatedSignInStatus,
  InteractionOrder,
  InteractionRouterServiceDefinition,
  MailboxAccessMode,
  MailboxFetchServiceDefinition,
  MailboxKind,
  MailboxSyncState,
  OutboundSendServiceDefinition,
  OutgoingMessage,
  ReplyMode,
  SendFailureReason,
  SendState,
  type Interaction,
} from '@mailroute/contracts';
import { demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { createGrpcClient } from '@mailroute/platform';
import {
  freePort,
  startDedicatedKafka,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  waitForServing,
  type DedicatedKafka,
  type ServiceProcess,
} from '@mailroute/testing';
import {
  dispatchDesktopUpdate,
  dropFleetDatabases,
  newFleetTenant,
  registerFleetTenant,
  serviceEnvironment,
  serviceOrder as order,
  signInDesktop,
  withProcessOutput,
  writeProcessLogs,
  type ServiceName,
} from './testing/service-fleet';

/**
 * Shared and delegated mailboxes end to end, set up the way an Exchange admin and the Sinch / Genesys
 * guides do it, through the four services as real processes: real MSAL (auth-broker's device-code
 * sign-in and its refreshes) against the graph sandbox over HTTPS, the real Graph client, a Kafka broker
 * of this test's own and FerretDB.
 *
 * - owner@: a user mailbox its owner signed in for ("on behalf of the user"): Mail.ReadWrite / Mail.Send;
 * - helpdesk@: a shared mailbox a delegate with Full Access and Send As signed in for: the .Shared scopes;
 * - orders@: a shared mailbox read app-only (application permissions, inside the access policy's group).
 * Each receives one customer e-mail, which becomes exactly one interaction; the agent's reply goes out from
 * the mailbox's own address, into its own Sent Items, in the customer's thread; the kind is detected.
 * Then the delegate loses Full Access: helpdesk@ stops with an error that says so, and the mail that
 * arrived meanwhile is ingested once when access is back.
 */
const domain = demoProfile.domain;
const owner = `owner@${domain}`;
const helpdesk = `helpdesk@${domain}`;
const delegate = `delegate@${domain}`;
const orders = `orders@${domain}`;
const customer = 'customer@customer.example';
const agent = { id: 'alice', upn: 'alice@contoso-demo.example' };
const mailboxIds: Record<string, string> = { [owner]: 'owner', [helpdesk]: 'helpdesk', [orders]: 'orders' };

describe('shared and delegated mailboxes through the running services', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let kafka: DedicatedKafka | undefined;
  const running = new Map<ServiceName, ServiceProcess>();
  const address = new Map<ServiceName, string>();
  const tenant = newFleetTenant('shared');
  const agentStop = new AbortController();
  const tag = `SH${randomBytes(3).toString('hex')}`;
  const replies: string[] = [];
  /** The send of each interaction's reply. */
  const replyOf = new Map<string, string>();
  const agentErrors: string[] = [];
  let agentTask: Promise<void> | undefined;

  const grpc = <D extends Parameters<typeof createGrpcClient>[0]>(definition: D, service: ServiceName) =>
    createGrpcClient(definition, address.get(service) ?? '', { deadlineMs: 30_000 });

  function fail(service: ServiceName, error: unknown): never {
    throw withProcessOutput(service, running.get(service), error);
  }

  /** auth-broker's device-code sign-in for `mailbox`, completed by `user` on the sandbox's device page. */
  async function signIn(mailbox: string, user: string) {
    const auth = grpc(AuthBrokerServiceDefinition, 'auth-broker');
    try {
      const started = await auth.client.startDelegatedSignIn(
        { mailboxAddress: mailbox, credentialsId: 'default' },
        { metadata: tenant.metadata() },
      );
      await endpoints.admin.approveDeviceCode(started.userCode, user);
      const outcome = await auth.client.completeDelegatedSignIn(
        { signInId: started.signInId, wait: { seconds: 25, nanos: 0 } },
        { metadata: tenant.metadata() },
      );
      return { started, outcome };
    } finally {
      auth.close();
    }
  }

  beforeAll(async () => {
    const kafkaStarting = startDedicatedKafka();
    ({ sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo', deviceCodeIntervalSeconds: 1 }));
    const { mongoUrl } = testInfra();
    for (const service of order) address.set(service, `127.0.0.1:${await freePort()}`);
    const start = (service: ServiceName, brokers: string) =>
      running.set(
        service,
        startServiceProcess(
          `apps/${service}/src/main.ts`,
          serviceEnvironment(service, {
            tenant,
            endpoints,
            mongoUrl,
            brokers,
            authBrokerAddress: address.get('auth-broker') ?? '',
            common: {
              GRPC_PORT: (address.get(service) ?? '').split(':')[1] ?? '0',
              LOG_LEVEL: 'info',
              NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
              // The workload manager reads the sends' status (a reply refused for lack of Send As).
              ...(service === 'outbound-send'
                ? { OUTBOUND_SEND_API_KEYS: `wm:${tenant.tenantId}:sends.read:${tenant.apiKeyHash}` }
                : {}),
            },
          }),
        ),
      );
    start('auth-broker', '');
    kafka = await kafkaStarting;
    for (const service of order) if (service !== 'auth-broker') start(service, kafka.brokers);
    await Promise.all(
      order.map((service) =>
        waitForServing(address.get(service) ?? '', { timeoutMs: 120_000 }).catch((error: unknown) => fail(service, error)),
      ),
    );

    // The Exchange side, as an admin sets it up.
    const admin = endpoints.admin;
    const directory = demoProfile.tenantId;
    await admin.updateApp(directory, demoProfile.clientId, { allowPublicClient: true });
    await admin.createMailbox(directory, { userPrincipalName: owner, displayName: 'Owner' });
    await admin.createMailbox(directory, { userPrincipalName: delegate, displayName: 'Delegate' });
    await admin.createMailbox(directory, { userPrincipalName: helpdesk, displayName: 'Helpdesk', userPurpose: 'shared' });
    await admin.createMailbox(directory, { userPrincipalName: orders, displayName: 'Orders', userPurpose: 'shared' });
    await admin.grantMailboxPermission(directory, helpdesk, { user: delegate, accessRights: ['FullAccess', 'SendAs'] });
    await admin.setGroupMembers(directory, demoProfile.routedGroup, [...demoProfile.routedMailboxes, orders]);

    // The tenant in mailroute: credentials, queue, agent, the app-only mailbox; then the two sign-ins.
    await registerFleetTenant({
      tenant,
      endpoints,
      address: (service) => address.get(service) ?? '',
      displayName: 'Contoso (shared mailboxes)',
      agents: [agent],
      mailboxes: [orders],
    });
    const fetchApi = grpc(MailboxFetchServiceDefinition, 'mailbox-fetch');
    try {
      for (const [mailbox, user] of [
        [owner, owner],
        [helpdesk, delegate],
      ] as const) {
        const { outcome } = await signIn(mailbox, user);
        expect(outcome.status).toBe(DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_COMPLETED);
        await fetchApi.client.createMailbox(
          {
            mailboxId: mailboxIds[mailbox] ?? '',
            mailbox: {
              address: mailbox,
              accessMode: MailboxAccessMode.MAILBOX_ACCESS_MODE_DELEGATED,
              credentialsId: 'default',
              defaultQueueId: 'support',
            },
          },
          { metadata: tenant.metadata() },
        );
      }
    } finally {
      fetchApi.close();
    }
    agentTask = runAgent();
  }, 300_000);

  afterAll(async () => {
    agentStop.abort();
    await agentTask;
    const logDir = process.env['SHARED_MAILBOXES_TEST_LOGS'];
    if (logDir) writeProcessLogs(logDir, running);
    await Promise.all([...running.values()].map((proc) => proc.stop('SIGKILL')));
    await sandbox?.stop();
    await kafka?.dispose();
    await dropFleetDatabases(tenant);
  }, 120_000);

  /** The agent: accepts every offer and replies to each of this test's e-mails once, completing it. */
  function runAgent(): Promise<void> {
    return (async () => {
      const { desktop, channel } = await signInDesktop(endpoints, agent.upn, address.get('interaction-router') ?? '');
      const handled = new Set<string>();
      const work = (interaction: Interaction): void => {
        if (handled.has(interaction.interactionId) || !interaction.subject.includes(tag)) return;
        handled.add(interaction.interactionId);
        desktop
          .reply(
            {
              idempotencyKey: `shared-${interaction.interactionId}`,
              interactionId: interaction.interactionId,
              replyToGraphMessageId: '',
              mode: ReplyMode.REPLY_MODE_REPLY,
              content: OutgoingMessage.fromPartial({ bodyHtml: `<p>Answer to ${interaction.subject}</p>` }),
              completeAfterSend: true,
            },
            { signal: AbortSignal.timeout(30_000) },
          )
          .then(({ sendId }) => {
            replies.push(sendId);
            replyOf.set(interaction.interactionId, sendId);
          })
          .catch((error: unknown) => {
            if (!agentStop.signal.aborted) agentErrors.push(`${interaction.interactionId}: ${String(error)}`);
          });
      };
      const accept = (offerId: string): void => {
        desktop
          .accept({ offerId }, { signal: AbortSignal.timeout(30_000) })
          .then(({ interaction }) => interaction && work(interaction))
          .catch(() => undefined);
      };
      try {
        for await (const update of desktop.connect(
          { clientInstanceId: 'shared-alice', initialPresence: AgentPresence.AGENT_PRESENCE_AVAILABLE },
          { signal: agentStop.signal },
        )) {
          dispatchDesktopUpdate(update, { work, accept });
        }
      } catch (error) {
        if (!agentStop.signal.aborted) agentErrors.push(`desktop stream: ${String(error)}`);
      } finally {
        channel.close();
      }
    })();
  }

  async function interactionsWith(subject: string): Promise<Interaction[]> {
    const router = grpc(InteractionRouterServiceDefinition, 'interaction-router');
    try {
      const page = await router.client.searchInteractions(
        {
          page: { pageSize: 10, pageToken: '' },
          filter: { subjectContains: subject },
          order: InteractionOrder.INTERACTION_ORDER_UNSPECIFIED,
        },
        { metadata: tenant.metadata() },
      );
      return page.interactions;
    } finally {
      router.close();
    }
  }

  async function mailboxOf(mailbox: string) {
    const fetchApi = grpc(MailboxFetchServiceDefinition, 'mailbox-fetch');
    try {
      return (await fetchApi.client.getMailbox({ mailboxId: mailboxIds[mailbox] ?? '' }, { metadata: tenant.metadata() }))
        .mailbox;
    } finally {
      fetchApi.close();
    }
  }

  /** Delivers a customer e-mail to `mailbox` and waits for mailroute's reply to it in the mailbox's sent log. */
  async function roundTrip(mailbox: string, subject: string) {
    const delivered = await endpoints.admin.deliver(demoProfile.tenantId, mailbox, {
      from: customer,
      subject,
      body: 'Please help.',
    });
    const sent = await waitFor(
      async () =>
        (await endpoints.admin.sent(demoProfile.tenantId, mailbox)).value.find(
          (record) => record.inReplyTo === delivered.internetMessageId,
        ),
      { timeoutMs: 180_000, intervalMs: 500, description: `the reply from ${mailbox} (agent errors: ${agentErrors.join('; ')})` },
    );
    return { delivered, sent };
  }

  it.each([
    ['a delegated user mailbox (its owner signed in)', owner, MailboxKind.MAILBOX_KIND_USER],
    ['a delegated shared mailbox (a delegate with Full Access and Send As signed in)', helpdesk, MailboxKind.MAILBOX_KIND_SHARED],
    ['an app-only shared mailbox', orders, MailboxKind.MAILBOX_KIND_SHARED],
  ])(
    '%s: one e-mail is one interaction; the reply goes out from its address into its Sent Items, in the thread',
    async (_label, mailbox, kind) => {
      const subject = `${tag} ${mailbox} order 1234`;
      const { delivered, sent } = await roundTrip(mailbox, subject);

      expect(sent.from.emailAddress.address).toBe(mailbox);
      expect(sent.sender.emailAddress.address).toBe(mailbox);
      expect(sent.toRecipients.map((recipient) => recipient.emailAddress.address)).toEqual([customer]);
      expect(sent.conversationId).toBe(delivered.conversationId);
      const sentItems = await endpoints.admin.folderMessages(demoProfile.tenantId, mailbox, 'sentitems');
      expect(sentItems.value.filter((message) => message.subject === `RE: ${subject}`)).toHaveLength(1);
      const delegateSentItems = await endpoints.admin.folderMessages(demoProfile.tenantId, delegate, 'sentitems');
      expect(delegateSentItems.value).toEqual([]);

      const interactions = await interactionsWith(subject);
      expect(interactions.map((interaction) => interaction.mailboxId)).toEqual([mailboxIds[mailbox]]);
      expect((await mailboxOf(mailbox))?.kind).toBe(kind);
    },
  );

  it('a delegate whose Full Access is removed stops syncing with an error saying so; mail from meanwhile is ingested once when it is back', async () => {
    const admin = endpoints.admin;
    await admin.revokeMailboxPermission(demoProfile.tenantId, helpdesk, { user: delegate, accessRights: ['FullAccess'] });
    const subject = `${tag} while locked out`;
    const delivered = await admin.deliver(demoProfile.tenantId, helpdesk, { from: customer, subject, body: 'Anyone there?' });

    const denied = await waitFor(
      async () => {
        const status = (await mailboxOf(helpdesk))?.syncStatus;
        return status?.state === MailboxSyncState.MAILBOX_SYNC_STATE_ACCESS_DENIED ? status : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, description: 'helpdesk@ to stop with ACCESS_DENIED' },
    );
    expect(denied.lastError?.message).toContain(helpdesk);
    expect(denied.lastError?.message).toContain('Full Access');
    expect(denied.lastError?.remedy).toContain(`Add-MailboxPermission -Identity ${helpdesk}`);
    expect(await interactionsWith(subject)).toEqual([]);

    // The admin gives Full Access back and the operator asks for a sync.
    await admin.grantMailboxPermission(demoProfile.tenantId, helpdesk, { user: delegate, accessRights: ['FullAccess'] });
    const fetchApi = grpc(MailboxFetchServiceDefinition, 'mailbox-fetch');
    try {
      await fetchApi.client.syncNow({ mailboxId: 'helpdesk', fullResync: false }, { metadata: tenant.metadata() });
    } finally {
      fetchApi.close();
    }
    await waitFor(
      async () =>
        (await admin.sent(demoProfile.tenantId, helpdesk)).value.some(
          (record) => record.inReplyTo === delivered.internetMessageId,
        ),
      { timeoutMs: 180_000, intervalMs: 500, description: 'the reply to the mail that arrived while locked out' },
    );
    // Later sync rounds (1 s apart) change nothing: still exactly one interaction, and the mailbox is healthy.
    const replied = Date.now();
    await waitFor(
      async () => {
        const status = (await mailboxOf(helpdesk))?.syncStatus;
        return (
          status?.state === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY &&
          (status.lastSuccessfulSyncAt?.getTime() ?? 0) > replied + 2_000
        );
      },
      { timeoutMs: 60_000, intervalMs: 250, description: 'two more healthy sync rounds of helpdesk@' },
    );
    expect((await interactionsWith(subject)).map((interaction) => interaction.mailboxId)).toEqual(['helpdesk']);
    expect(agentErrors).toEqual([]);
  });

  it('a delegate without Send As: the reply fails with a finding that names Send As and its remedy, and nothing is sent', async () => {
    const admin = endpoints.admin;
    await admin.revokeMailboxPermission(demoProfile.tenantId, helpdesk, { user: delegate, accessRights: ['SendAs'] });
    const outbound = grpc(OutboundSendServiceDefinition, 'outbound-send');
    try {
      const subject = `${tag} without Send As`;
      const delivered = await admin.deliver(demoProfile.tenantId, helpdesk, { from: customer, subject, body: 'Hello?' });
      const [interaction] = await waitFor(
        async () => ((found) => (found.length > 0 ? found : undefined))(await interactionsWith(subject)),
        {
          timeoutMs: 120_000,
          intervalMs: 500,
          description: 'the interaction of the mail to helpdesk@',
        },
      );
      const sendId = await waitFor(() => replyOf.get(interaction?.interactionId ?? ''), {
        timeoutMs: 120_000,
        intervalMs: 250,
        description: `the agent's reply (agent errors: ${agentErrors.join('; ')})`,
      });
      const failed = await waitFor(
        async () => {
          const { send } = await outbound.client.getSendStatus(
            { key: { $case: 'sendId', value: sendId } },
            { metadata: tenant.metadata() },
          );
          return send?.state === SendState.SEND_STATE_FAILED ? send : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 250, description: 'the reply from helpdesk@ to fail' },
      );
      expect(failed.failure?.reason).toBe(SendFailureReason.SEND_FAILURE_REASON_MAIL_SEND_NOT_GRANTED);
      expect(failed.failure?.graphErrorCode).toBe('ErrorSendAsDenied');
      expect(failed.failure?.message).toContain('Send As');
      expect(failed.failure?.message).toContain('Add-RecipientPermission');
      const sent = await admin.sent(demoProfile.tenantId, helpdesk);
      expect(sent.value.filter((record) => record.inReplyTo === delivered.internetMessageId)).toEqual([]);
    } finally {
      outbound.close();
      await admin.grantMailboxPermission(demoProfile.tenantId, helpdesk, { user: delegate, accessRights: ['SendAs'] });
    }
  }, 300_000);
});
