import { type AlertEvent, AlertKind, AlertStatus, Mailbox, MailboxSyncState } from '@mailroute/contracts';
import { createGraphMailClient } from '@mailroute/graph-mail';
import { createAlertEventPublisher, events, fromEventMessage, KafkaEventBus, type Subscription } from '@mailroute/messaging';
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
import { createMailboxSyncAlertSweep } from './alerts/mailbox-sync-alerts';
import { createMailboxFetchCore, type MailboxFetchCore } from './mailbox-fetch';
import { openMongoStores, type MailboxFetchStores } from './store/mailbox-fetch.stores';

/**
 * The mailbox-stopped-syncing alert through the running pieces: a mailbox-fetch core syncs a graph
 * sandbox mailbox (FerretDB stores, Kafka); the sandbox then denies the app access (an application
 * access policy), so the mailbox stops; two replicas' alert sweeps over the same stores and bus
 * publish one FIRING event, and one RESOLVED once access is back and the mailbox synced again.
 */
describe('mailbox stopped-syncing alert events', () => {
  const logger = createLogger({ name: 'mf-alerts-test', level: 'silent' });
  const tenantId = randomId('tenant');
  const tenants = new Map<string, SandboxMailTenant>();
  let started: Awaited<ReturnType<typeof startTestGraphSandbox>>;
  let sandbox: SandboxMailTenant;
  let bus: KafkaEventBus;
  let subscription: Subscription;
  let stores: MailboxFetchStores;
  let core: MailboxFetchCore;
  const received: AlertEvent[] = [];

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 1 });
    tenants.set(tenantId, sandbox);
    bus = new KafkaEventBus({ brokers: testInfra().kafkaBrokers, clientId: randomId('mf-alerts') });
    await bus.ensureTopics([{ topic: events.alert.topic, partitions: 4 }]);
    subscription = await bus.subscribe({
      groupId: randomId('mf-alert-watch'),
      topics: [events.alert.topic],
      fromBeginning: false,
      handler: async (message) => {
        const event = fromEventMessage('alert', message);
        if (event.tenantId === tenantId) received.push(event);
      },
    });
    await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 60_000 });
    stores = await openMongoStores({ url: testInfra().mongoUrl, database: randomId('mf-alerts') });
    core = createMailboxFetchCore({
      stores,
      graph: createGraphMailClient({ tokens: createSandboxTokenProvider(started.endpoints, tenants), logger }),
      bus,
      logger,
      replicaId: 'replica-a',
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

  const sweeper = () =>
    createMailboxSyncAlertSweep({
      stores,
      clock: Date.now,
      publish: createAlertEventPublisher(bus),
      options: { stoppedAfterMs: 900_000, relayAfterMs: 30_000, retentionMs: 86_400_000 },
    });

  const stateOf = async () => (await core.getSyncStatus(tenantId, 'support')).state;

  it('publishes one FIRING event when a mailbox stops on denied access and one RESOLVED when it syncs again, with two replicas sweeping', async () => {
    const address = sandbox.mailboxes[0] ?? '';
    await core.createMailbox(tenantId, 'support', Mailbox.fromPartial({ address }));
    await waitFor(async () => (await stateOf()) === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY, { timeoutMs: 60_000 });
    const [a, b] = [sweeper(), sweeper()];
    const sweepBoth = async () => (await Promise.all([a.sweep(), b.sweep()])).reduce((x, y) => x + y, 0);
    expect(await sweepBoth()).toBe(0);
    expect(a.figures()).toEqual([expect.objectContaining({ tenantId, mailboxId: 'support', stopped: false })]);

    const policy = await started.endpoints.admin.createAccessPolicy(sandbox.directoryId, {
      appId: sandbox.clientId,
      accessRight: 'DenyAccess',
      policyScopeGroupId: `blocked@${sandbox.domain}`,
      members: [address],
    });
    await core.syncNow(tenantId, 'support', false);
    await waitFor(async () => (await stateOf()) === MailboxSyncState.MAILBOX_SYNC_STATE_ACCESS_DENIED, { timeoutMs: 90_000 });
    expect(await sweepBoth()).toBe(1);
    expect(await sweepBoth()).toBe(0);
    expect(a.figures()[0]?.stopped).toBe(true);

    await started.endpoints.admin.removeAccessPolicy(sandbox.directoryId, policy.id);
    await core.syncNow(tenantId, 'support', false);
    await waitFor(async () => (await stateOf()) === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY, { timeoutMs: 90_000 });
    expect(await sweepBoth()).toBe(1);
    expect(await sweepBoth()).toBe(0);

    await waitFor(() => received.length >= 2, { timeoutMs: 60_000 });
    expect(received.map((e) => [e.eventId, e.kind, e.status, e.mailboxId, e.detail, e.threshold])).toEqual([
      [
        `${tenantId}/support/mailbox-sync-stopped/00000001/firing`,
        AlertKind.ALERT_KIND_MAILBOX_SYNC_STOPPED,
        AlertStatus.ALERT_STATUS_FIRING,
        'support',
        'MAILBOX_SYNC_STATE_ACCESS_DENIED',
        900,
      ],
      [
        `${tenantId}/support/mailbox-sync-stopped/00000001/resolved`,
        AlertKind.ALERT_KIND_MAILBOX_SYNC_STOPPED,
        AlertStatus.ALERT_STATUS_RESOLVED,
        'support',
        '',
        900,
      ],
    ]);
  });
});
