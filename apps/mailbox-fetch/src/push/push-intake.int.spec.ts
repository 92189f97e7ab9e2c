import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mailbox, MailboxAccessMode, MailboxIntakeMode, MailboxPollingReason, type InboundEmail } from '@mailroute/contracts';
import { createGraphMailClient, createMailboxLimiter, type GraphMailClient } from '@mailroute/graph-mail';
import { events, fromEventMessage, KafkaEventBus, type Subscription } from '@mailroute/messaging';
import { createLogger, createSecretBox } from '@mailroute/platform';
import {
  createSandboxMailTenant,
  createSandboxTokenProvider,
  createTestCertificateAuthority,
  freePort,
  randomId,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  type SandboxMailTenant,
} from '@mailroute/testing';
import { createMailboxFetchCore, type MailboxFetchCore } from '../mailbox-fetch';
import { mailboxKey } from '../store/mailbox-fetch.records';
import { openMongoStores, type MailboxFetchStores } from '../store/mailbox-fetch.stores';
import type { SyncRuntimeOptions } from '../sync/sync-runtime';
import { createPushIntake, type PushIntake } from './push-intake';
import type { PushOptions } from './subscription-manager';

/**
 * Push intake end to end: Graph subscriptions made in the graph sandbox (its validation handshake to the
 * replica's HTTPS endpoint), notifications waking delta sync, InboundEmail events on Kafka, state in FerretDB.
 */
describe('mailbox-fetch push intake (graph sandbox, Kafka, FerretDB)', () => {
  const logger = createLogger({ name: 'push-test', level: (process.env['MF_TEST_LOG'] as 'info' | undefined) ?? 'silent' });
  let started: Awaited<ReturnType<typeof startTestGraphSandbox>>;
  let bus: KafkaEventBus;
  let consumer: Subscription;
  let tls: { cert: string; key: string };
  let graph: GraphMailClient;
  const received: InboundEmail[] = [];
  const tenants = new Map<string, SandboxMailTenant>();
  /** Delegated access tokens by `tenant/mailbox address`. */
  const delegatedTokens = new Map<string, string>();
  const replicas: Array<{ core: MailboxFetchCore; push: PushIntake; stores: MailboxFetchStores }> = [];
  const secrets = createSecretBox({ keys: [{ id: 'test', key: Buffer.alloc(32, 7) }], activeKeyId: 'test' });

  beforeAll(async () => {
    const ca = await createTestCertificateAuthority(await mkdtemp(path.join(tmpdir(), 'push-ca-')), 'push-test');
    const leaf = ca.issue('notification-endpoint');
    tls = { cert: leaf.cert, key: leaf.key };
    started = await startTestGraphSandbox({
      notificationCaCertsPem: [ca.ca],
      subscriptions: { notificationRetryBaseMs: 200 },
      deviceCodeIntervalSeconds: 1,
    });
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('push-test') });
    await bus.ensureTopics([{ topic: events.inboundEmail.topic, partitions: 8 }]);
    consumer = await bus.subscribe({
      groupId: randomId('push-test-consumer'),
      topics: [events.inboundEmail.topic],
      fromBeginning: false,
      handler: async (message) => {
        received.push(fromEventMessage('inboundEmail', message));
      },
    });
    await waitFor(() => consumer.assignments().length > 0, { timeoutMs: 30_000, description: 'consumer assignment' });
    const appOnly = createSandboxTokenProvider(started.endpoints, tenants);
    graph = createGraphMailClient({
      // Delegated mailboxes: the token of the user signed in for the mailbox (see delegatedSignIn).
      tokens: {
        getToken: async (tenantId, principal, options) => {
          if (principal.kind !== 'delegated') return appOnly.getToken(tenantId, principal, options);
          const accessToken = delegatedTokens.get(`${tenantId}/${principal.mailboxAddress.toLowerCase()}`);
          if (!accessToken) throw Object.assign(new Error('no delegated sign-in'), { retryable: false });
          return { accessToken, graphEndpoint: started.endpoints.baseUrl };
        },
      },
      limiter: createMailboxLimiter({ perMailbox: 3 }),
      logger,
    });
  });

  afterAll(async () => {
    for (const { core, push, stores } of replicas) {
      await push.stop().catch(() => undefined);
      await core.wakeUps.stop().catch(() => undefined);
      await core.runtime.stop().catch(() => undefined);
      await stores.close().catch(() => undefined);
    }
    await consumer?.close({ graceMs: 0 });
    await bus?.close();
    await started?.sandbox.stop();
  });

  /** A replica: the core (sync runtime) and push intake with its own HTTPS endpoint on `port`. */
  async function startReplica(
    database: string,
    replicaId: string,
    setup: {
      port: number;
      publicPort?: number;
      runtime?: Partial<SyncRuntimeOptions>;
      push?: Partial<PushOptions>;
      /** Create only; the test calls start() (e.g. after creating a mailbox the first scan should find). */
      deferStart?: boolean;
      /** false: this replica does not read the Kafka wake-ups (only the stored requests reach it). */
      wakeUps?: boolean;
    },
  ) {
    const stores = await openMongoStores({ url: testInfra().mongoUrl, database });
    const core = createMailboxFetchCore({
      stores,
      graph,
      bus,
      logger,
      replicaId,
      options: { leaseTtlMs: 10_000, scanIntervalMs: 300, errorBackoffBaseMs: 200, errorBackoffMaxMs: 1_000, ...setup.runtime },
    });
    const push = createPushIntake({
      stores,
      graph,
      runtime: core.runtime,
      wakeUps: core.wakeUps,
      logger,
      clock: Date.now,
      settings: {
        options: {
          publicUrl: `https://127.0.0.1:${setup.publicPort ?? setup.port}/graph`,
          checkIntervalMs: 300,
          wakeDebounceMs: 300,
          retryBaseMs: 500,
          ...setup.push,
        },
        secrets,
        endpoint: { host: '127.0.0.1', port: setup.port, tls },
      },
    });
    replicas.push({ core, push, stores });
    const start = async () => {
      core.runtime.start();
      if (setup.wakeUps !== false) await core.wakeUps.start();
      await push.start();
    };
    if (!setup.deferStart) await start();
    return { core, push, stores, start };
  }

  async function newMailbox(core: MailboxFetchCore) {
    const tenantId = randomId('tenant');
    const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 1 });
    tenants.set(tenantId, sandbox);
    const address = sandbox.mailboxes[0] ?? '';
    // A long poll interval: within a test, only a notification (or the safety net) brings new mail in.
    const mailbox = await core.createMailbox(
      tenantId,
      'support',
      Mailbox.fromPartial({ address, pollInterval: { seconds: 3_600, nanos: 0 } }),
    );
    return { tenantId, mailboxId: mailbox.mailboxId, sandbox, address, key: mailboxKey(tenantId, mailbox.mailboxId) };
  }

  const eventsOf = (tenantId: string) => received.filter((event) => event.tenantId === tenantId);
  const subscriptionsOf = async (sandbox: SandboxMailTenant) =>
    (await started.endpoints.subscriptions.list(sandbox.directoryId)).value;
  async function livePush(core: MailboxFetchCore, key: string) {
    await waitFor(() => core.runtime.statusOf(key)?.intake?.mode === 'push', { timeoutMs: 30_000, description: 'push mode' });
  }
  async function deliver(mailbox: { sandbox: SandboxMailTenant; address: string }, subject: string) {
    await started.endpoints.admin.deliver(mailbox.sandbox.directoryId, mailbox.address, {
      from: 'customer@example.org',
      subject,
      body: subject,
    });
  }
  async function ingested(tenantId: string, subject: string) {
    await waitFor(() => eventsOf(tenantId).some((event) => event.message?.subject === subject), {
      timeoutMs: 30_000,
      description: `InboundEmail "${subject}"`,
    });
  }

  it('ingests mail from a notification without a poll, and duplicated or forged notifications create nothing extra', async () => {
    const { core } = await startReplica(randomId('mf-push'), 'push-a', { port: await freePort() });
    const mailbox = await newMailbox(core);
    await livePush(core, mailbox.key);
    const [subscription] = await subscriptionsOf(mailbox.sandbox);
    expect(subscription).toMatchObject({
      changeType: 'created',
      notificationUrl: expect.stringMatching(/\/graph\/notifications$/),
    });
    // The safety net is 15 minutes and the mailbox's own interval an hour: only the notification can bring this in.
    expect(core.runtime.statusOf(mailbox.key)?.nextSyncAt ?? 0).toBeGreaterThan(Date.now() + 600_000);
    // The sync status says push, with a subscription within Graph's 4,230-minute maximum for Outlook messages.
    const status = await core.getSyncStatus(mailbox.tenantId, mailbox.mailboxId);
    expect(status.intake).toMatchObject({
      mode: MailboxIntakeMode.MAILBOX_INTAKE_MODE_PUSH,
      pollingReason: MailboxPollingReason.MAILBOX_POLLING_REASON_UNSPECIFIED,
      detail: '',
    });
    const expiresIn = (status.intake?.subscriptionExpiresAt?.getTime() ?? 0) - Date.now();
    expect(expiresIn).toBeGreaterThan(2_000 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(4_230 * 60_000);

    await deliver(mailbox, 'pushed');
    await ingested(mailbox.tenantId, 'pushed');

    await started.endpoints.subscriptions.addFault({ kind: 'duplicate', subscriptionId: subscription?.id });
    await deliver(mailbox, 'duplicated');
    await ingested(mailbox.tenantId, 'duplicated');
    await started.endpoints.subscriptions.clearFaults();

    const forgedBefore = replicas[0]?.push.counters?.forged ?? 0;
    const acceptedBefore = replicas[0]?.push.counters?.accepted ?? 0;
    await started.endpoints.subscriptions.addFault({ kind: 'forgeClientState', subscriptionId: subscription?.id });
    await deliver(mailbox, 'forged');
    await waitFor(() => (replicas[0]?.push.counters?.forged ?? 0) > forgedBefore, {
      timeoutMs: 30_000,
      description: 'forged seen',
    });
    await started.endpoints.subscriptions.clearFaults();
    expect(replicas[0]?.push.counters?.accepted).toBe(acceptedBefore);
    // The forged notification woke nothing: the mail waits for the next real notification.
    expect(eventsOf(mailbox.tenantId).some((event) => event.message?.subject === 'forged')).toBe(false);
    await deliver(mailbox, 'after the forgery');
    await ingested(mailbox.tenantId, 'after the forgery');
    expect(
      eventsOf(mailbox.tenantId)
        .map((event) => event.message?.subject)
        .sort(),
    ).toEqual(['after the forgery', 'duplicated', 'forged', 'pushed']);
  });

  it('catches a dropped notification in the safety-net round', async () => {
    const { core } = await startReplica(randomId('mf-push'), 'push-b', {
      port: await freePort(),
      runtime: { safetyNetPollIntervalMs: 4_000, pollIntervalCapMs: 4_000 },
    });
    const mailbox = await newMailbox(core);
    await livePush(core, mailbox.key);
    await started.endpoints.subscriptions.addFault({ kind: 'drop', tenantId: mailbox.sandbox.directoryId });
    await deliver(mailbox, 'dropped');
    await ingested(mailbox.tenantId, 'dropped');
    const deliveries = (await started.endpoints.subscriptions.deliveries()).value;
    const ours = new Set((await subscriptionsOf(mailbox.sandbox)).map((item) => item.id));
    expect(deliveries.filter((entry) => ours.has(entry.subscriptionId)).map((entry) => entry.outcome)).toEqual(['dropped']);
    await started.endpoints.subscriptions.clearFaults();
    expect(eventsOf(mailbox.tenantId)).toHaveLength(1);
  });

  it('renews a subscription before it expires, and recreates a removed one without losing mail', async () => {
    const { core, stores } = await startReplica(randomId('mf-push'), 'push-c', {
      port: await freePort(),
      push: { subscriptionLifetimeMs: 6_000 },
    });
    const mailbox = await newMailbox(core);
    await livePush(core, mailbox.key);
    const first = await stores.subscriptions.get(mailbox.key);
    await waitFor(async () => ((await stores.subscriptions.get(mailbox.key))?.renewedAt ?? 0) > 0, {
      timeoutMs: 30_000,
      description: 'renewal',
    });
    const renewed = await stores.subscriptions.get(mailbox.key);
    expect(renewed?.subscriptionId).toBe(first?.subscriptionId);
    expect(renewed?.expiresAt ?? 0).toBeGreaterThan(first?.expiresAt ?? 0);

    await started.endpoints.subscriptions.signal(renewed?.subscriptionId ?? '', 'subscriptionRemoved');
    await deliver(mailbox, 'while removed');
    await ingested(mailbox.tenantId, 'while removed');
    await waitFor(
      async () => {
        const now = await stores.subscriptions.get(mailbox.key);
        return now !== undefined && now.subscriptionId !== renewed?.subscriptionId;
      },
      { timeoutMs: 30_000, description: 'a new subscription' },
    );
    await deliver(mailbox, 'after recreation');
    await ingested(mailbox.tenantId, 'after recreation');
    expect(eventsOf(mailbox.tenantId).map((event) => event.message?.subject)).toEqual(['while removed', 'after recreation']);
  });

  /**
   * Two replicas; the subscription's notifications reach the one that does not own the mailbox (as an
   * ingress may send them anywhere). `owner` sets how the owner hears of it.
   */
  async function notificationAtTheOtherReplica(owner: { runtime?: Partial<SyncRuntimeOptions>; wakeUps?: boolean }) {
    const database = randomId('mf-push');
    const first = await startReplica(database, randomId('push-owner'), { port: await freePort(), ...owner, deferStart: true });
    const mailbox = await newMailbox(first.core);
    await first.start();
    await livePush(first.core, mailbox.key);
    const other = await startReplica(database, randomId('push-other'), { port: await freePort(), runtime: owner.runtime });
    expect(other.core.runtime.owned()).not.toContain(mailbox.key);
    if (owner.wakeUps !== false)
      await waitFor(() => first.core.wakeUps.listening(), { timeoutMs: 60_000, description: 'owner reads wake-ups' });
    const [subscription] = await subscriptionsOf(mailbox.sandbox);
    await fetchPatch(subscription?.id ?? '', `https://127.0.0.1:${other.push.port()}/graph/notifications`, mailbox);

    await deliver(mailbox, 'via the other replica');
    await ingested(mailbox.tenantId, 'via the other replica');
    expect(other.push.counters?.accepted ?? 0).toBeGreaterThan(0);
    expect(eventsOf(mailbox.tenantId)).toHaveLength(1);
    return { owner: first, other };
  }

  it('ingests mail once, woken through Kafka, when the notification reaches a replica that does not own the mailbox', async () => {
    // Scans 10 minutes apart: the owner's scan, which reads the stored request, cannot be what brings the mail in.
    const { owner } = await notificationAtTheOtherReplica({ runtime: { leaseTtlMs: 1_200_000, scanIntervalMs: 600_000 } });
    expect(owner.core.wakeUps.received()).toBeGreaterThan(0);
  });

  it('falls back to the stored request when the owner does not read the Kafka wake-ups', async () => {
    const { owner } = await notificationAtTheOtherReplica({ wakeUps: false });
    expect(owner.core.wakeUps.received()).toBe(0);
  });

  it('says in the sync status why a mailbox polls: no public URL, or Graph refusing the subscription with its error', async () => {
    const database = randomId('mf-push');
    const noUrl = await startReplica(database, 'push-no-url', { port: await freePort(), push: { publicUrl: undefined } });
    const unlisted = await newMailbox(noUrl.core);
    await waitFor(async () => (await noUrl.core.getSyncStatus(unlisted.tenantId, unlisted.mailboxId)).intake !== undefined, {
      timeoutMs: 30_000,
      description: 'intake decided',
    });
    expect((await noUrl.core.getSyncStatus(unlisted.tenantId, unlisted.mailboxId)).intake).toMatchObject({
      mode: MailboxIntakeMode.MAILBOX_INTAKE_MODE_POLLING,
      pollingReason: MailboxPollingReason.MAILBOX_POLLING_REASON_NO_PUBLIC_URL,
      detail: expect.stringContaining('MAILBOX_FETCH_PUSH_PUBLIC_URL'),
    });
    await noUrl.push.stop();
    await noUrl.core.runtime.stop();

    // The public URL leads nowhere: Graph's validation request fails and the subscription is refused.
    const refused = await startReplica(randomId('mf-push'), 'push-refused', {
      port: await freePort(),
      publicPort: await freePort(),
    });
    const mailbox = await newMailbox(refused.core);
    await waitFor(async () => (await refused.core.getSyncStatus(mailbox.tenantId, mailbox.mailboxId)).intake !== undefined, {
      timeoutMs: 30_000,
      description: 'intake decided',
    });
    expect((await refused.core.getSyncStatus(mailbox.tenantId, mailbox.mailboxId)).intake).toMatchObject({
      mode: MailboxIntakeMode.MAILBOX_INTAKE_MODE_POLLING,
      pollingReason: MailboxPollingReason.MAILBOX_POLLING_REASON_SUBSCRIPTION_REFUSED,
      detail: expect.stringMatching(/^Graph subscription refused: .*must respond with 200 OK/),
      subscriptionExpiresAt: undefined,
    });
    expect(await subscriptionsOf(mailbox.sandbox)).toEqual([]);
  });

  it('runs a delta round after missed, and reauthorizes a subscription after reauthorizationRequired', async () => {
    const { core, stores } = await startReplica(randomId('mf-push'), 'push-lifecycle', { port: await freePort() });
    const mailbox = await newMailbox(core);
    await livePush(core, mailbox.key);
    const subscriptionId = (await stores.subscriptions.get(mailbox.key))?.subscriptionId ?? '';
    // The initial round is over: the next poll is the safety net's, 15 minutes away.
    await waitFor(() => (core.runtime.statusOf(mailbox.key)?.nextSyncAt ?? 0) > Date.now() + 600_000, {
      timeoutMs: 30_000,
      description: 'initial round complete',
    });

    // A dropped notification, then Graph's `missed`: only the delta round it wakes can bring the mail in.
    await started.endpoints.subscriptions.addFault({ kind: 'drop', tenantId: mailbox.sandbox.directoryId });
    await deliver(mailbox, 'missed notification');
    await waitFor(
      async () =>
        (await started.endpoints.subscriptions.deliveries(subscriptionId)).value.some((entry) => entry.outcome === 'dropped'),
      { timeoutMs: 30_000, description: 'notification dropped' },
    );
    await started.endpoints.subscriptions.clearFaults();
    expect(eventsOf(mailbox.tenantId)).toEqual([]);
    await started.endpoints.subscriptions.signal(subscriptionId, 'missed');
    await ingested(mailbox.tenantId, 'missed notification');

    // The sandbox holds the subscription's notifications until the app reauthorizes it, as Graph does.
    await started.endpoints.subscriptions.signal(subscriptionId, 'reauthorizationRequired');
    await deliver(mailbox, 'during reauthorization');
    await ingested(mailbox.tenantId, 'during reauthorization');
    await waitFor(async () => (await subscriptionsOf(mailbox.sandbox)).every((item) => !item.paused), {
      timeoutMs: 30_000,
      description: 'subscription reauthorized',
    });
    expect((await subscriptionsOf(mailbox.sandbox)).map((item) => item.id)).toEqual([subscriptionId]);
    expect((await stores.subscriptions.get(mailbox.key))?.subscriptionId).toBe(subscriptionId);
    expect(eventsOf(mailbox.tenantId).map((event) => event.message?.subject)).toEqual([
      'missed notification',
      'during reauthorization',
    ]);
  });

  /** `user` signs in through the sandbox's device-code flow with delegated `scopes`; the access token. */
  async function delegatedSignIn(sandbox: SandboxMailTenant, user: string, scopes: string[]): Promise<string> {
    const base = `${started.endpoints.baseUrl}/${sandbox.directoryId}/oauth2/v2.0`;
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    const code = (await (
      await fetch(`${base}/devicecode`, form({ client_id: sandbox.clientId, scope: [...scopes, 'offline_access'].join(' ') }))
    ).json()) as { device_code: string; user_code: string };
    await started.endpoints.admin.approveDeviceCode(code.user_code, user);
    return waitFor(
      async () => {
        const answer = (await (
          await fetch(
            `${base}/token`,
            form({
              grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
              client_id: sandbox.clientId,
              device_code: code.device_code,
            }),
          )
        ).json()) as { access_token?: string; error?: string };
        if (answer.access_token) return answer.access_token;
        if (answer.error !== 'authorization_pending' && answer.error !== 'slow_down')
          throw new Error(`sign-in of ${user}: ${answer.error}`);
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000, description: `the sign-in of ${user}` },
    );
  }

  // Graph subscribes delegated callers to their own mailbox only: "Mail.Read.Shared or Mail.ReadWrite.Shared […] don't
  // support subscribing to change notifications on items in shared or delegated folders"
  // (https://learn.microsoft.com/graph/outlook-share-messages-folders; the sandbox answers 403 ErrorAccessDenied).
  it('delegated mailboxes: the signed-in user’s own gets a subscription and ingests from a notification; a shared one polls and says why', async () => {
    const { core } = await startReplica(randomId('mf-push'), 'push-delegated', { port: await freePort() });
    const tenantId = randomId('tenant');
    const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 1 });
    tenants.set(tenantId, sandbox);
    const owner = sandbox.mailboxes[0] ?? '';
    const shared = `helpdesk@${sandbox.domain}`;
    const delegate = `delegate@${sandbox.domain}`;
    const admin = started.endpoints.admin;
    await admin.createMailbox(sandbox.directoryId, { userPrincipalName: delegate, displayName: 'Delegate' });
    await admin.createMailbox(sandbox.directoryId, { userPrincipalName: shared, displayName: 'Helpdesk', userPurpose: 'shared' });
    await admin.grantMailboxPermission(sandbox.directoryId, shared, { user: delegate, accessRights: ['FullAccess'] });
    await admin.updateApp(sandbox.directoryId, sandbox.clientId, { allowPublicClient: true });
    await admin.setConsent(sandbox.directoryId, sandbox.clientId, {
      delegatedPermissions: ['User.Read', 'Mail.ReadWrite', 'Mail.ReadWrite.Shared'],
    });
    delegatedTokens.set(`${tenantId}/${owner.toLowerCase()}`, await delegatedSignIn(sandbox, owner, ['Mail.ReadWrite']));
    delegatedTokens.set(`${tenantId}/${shared}`, await delegatedSignIn(sandbox, delegate, ['Mail.ReadWrite.Shared']));
    const delegated = (mailboxId: string, address: string, pollSeconds: number) =>
      core.createMailbox(
        tenantId,
        mailboxId,
        Mailbox.fromPartial({
          address,
          accessMode: MailboxAccessMode.MAILBOX_ACCESS_MODE_DELEGATED,
          credentialsId: 'default',
          pollInterval: { seconds: pollSeconds, nanos: 0 },
        }),
      );
    // The user's own mailbox polls hourly: only a notification brings mail in within the test.
    await delegated('own', owner, 3_600);
    await delegated('helpdesk', shared, 10);
    const ownKey = mailboxKey(tenantId, 'own');
    await livePush(core, ownKey);
    expect((await subscriptionsOf(sandbox)).map((subscription) => subscription.resource)).toEqual([
      expect.stringContaining(`/users/${owner}/`),
    ]);
    await deliver({ sandbox, address: owner }, 'to the signed-in user');
    await ingested(tenantId, 'to the signed-in user');
    expect(core.runtime.statusOf(ownKey)?.intake?.mode).toBe('push');

    // The shared mailbox: Graph refuses the delegate's subscription; it polls, and the status says why.
    await waitFor(async () => (await core.getSyncStatus(tenantId, 'helpdesk')).intake !== undefined, {
      timeoutMs: 30_000,
      description: 'intake of the shared mailbox decided',
    });
    const status = await core.getSyncStatus(tenantId, 'helpdesk');
    expect(status.intake).toMatchObject({
      mode: MailboxIntakeMode.MAILBOX_INTAKE_MODE_POLLING,
      pollingReason: MailboxPollingReason.MAILBOX_POLLING_REASON_DELEGATED_ACCESS,
      detail: expect.stringContaining(`${delegate}'s delegated sign-in with the .Shared scopes`),
    });
    expect(status.intake?.detail).toContain('connect it app-only');
    expect(await subscriptionsOf(sandbox)).toHaveLength(1);
    await deliver({ sandbox, address: shared }, 'to the shared mailbox');
    await ingested(tenantId, 'to the shared mailbox');
    expect(
      eventsOf(tenantId)
        .map((event) => [event.mailboxId, event.message?.subject])
        .sort(),
    ).toEqual([
      ['helpdesk', 'to the shared mailbox'],
      ['own', 'to the signed-in user'],
    ]);
  });

  /** Points a subscription at another URL, as Graph's PATCH allows (the sandbox validates it again). */
  async function fetchPatch(subscriptionId: string, notificationUrl: string, mailbox: { tenantId: string }) {
    const token = await createSandboxTokenProvider(started.endpoints, tenants).getToken(
      mailbox.tenantId,
      { kind: 'app-only', credentialsId: 'default' },
      { forceRefresh: false },
    );
    const response = await fetch(`${started.endpoints.baseUrl}/v1.0/subscriptions/${subscriptionId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ notificationUrl }),
    });
    expect(response.status).toBe(200);
  }
});
