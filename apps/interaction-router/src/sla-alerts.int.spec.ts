import { AlertEvent, AlertKind, AlertStatus, InteractionState, Queue } from '@mailroute/contracts';
import { eventKey, events, fromEventMessage, toEventMessage, type Subscription } from '@mailroute/messaging';
import type { InteractionRecord } from '@mailroute/persistence';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { createRouterCore, type RouterCoreOptions } from './routing/router-core';
import { silentLogger } from '../test/router-core.fixture';
import { createTestIdentityProvider, startHarness, type Harness } from '../test/router-harness';

/**
 * SLA alerts on Kafka: a real router replica (the harness, real FerretDB and Kafka) takes the mail in;
 * the SLA alert sweeps under test run in router cores over the same stores and bus with a clock the
 * test moves (the harness replicas' own sweeps run on the wall clock, hours before these due times).
 */
const slow = { timeoutMs: 90_000, intervalMs: 100 };
const MINUTE = 60_000;

describe('SLA alert events', () => {
  const tenant = randomId('t-alerts');
  let harness: Harness;
  let subscription: Subscription;
  const received: AlertEvent[] = [];
  let now = Date.now();

  beforeAll(async () => {
    const idp = await createTestIdentityProvider(new Map([[randomId('dir-alerts'), tenant]]));
    harness = await startHarness({ infra: testInfra(), replicas: 1, tenants: [tenant], verifier: idp.verifier });
    await harness.admin(tenant).createQueue({
      queueId: 'billing',
      queue: Queue.fromPartial({
        displayName: 'Billing',
        serviceLevel: {
          threshold: { seconds: 120 * 60, nanos: 0 },
          targetPercent: 80,
          dueSoonBefore: { seconds: 30 * 60, nanos: 0 },
        },
      }),
    });
    subscription = await harness.bus.subscribe({
      groupId: randomId('alert-watch'),
      topics: [events.alert.topic],
      fromBeginning: false,
      handler: async (message) => {
        const event = fromEventMessage('alert', message);
        if (event.tenantId === tenant) received.push(event);
      },
    });
    await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await subscription?.close();
    await harness?.close();
  });

  /** A router core (what a replica runs) over the harness' stores and bus, on the test's clock. */
  const routerCore = (options: Partial<RouterCoreOptions> = {}) =>
    createRouterCore({ stores: harness.stores, bus: harness.bus, logger: silentLogger, clock: () => now, ...options });

  async function mail(): Promise<InteractionRecord> {
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: 'billing',
      message: { subject: 'Invoice', conversationId: `conv-${interactionId}`, graphMessageId: `g-${interactionId}` } as never,
    });
    let record: InteractionRecord | undefined;
    await waitFor(async () => {
      record = await harness.stores.interactions.get(tenant, interactionId);
      return record?.state === InteractionState.INTERACTION_STATE_QUEUED;
    }, slow);
    return record as InteractionRecord;
  }

  /**
   * The interaction's alert events once everything published before this call has been consumed: a
   * barrier event on the same key (so the same partition, after them) marks the end.
   */
  async function alertsOf(interactionId: string): Promise<AlertEvent[]> {
    const barrier = randomId('barrier');
    await harness.bus.publish(
      events.alert.topic,
      toEventMessage(
        'alert',
        eventKey(tenant, interactionId),
        AlertEvent.fromPartial({ eventId: barrier, tenantId: tenant, interactionId }),
      ),
    );
    await waitFor(() => received.some((event) => event.eventId === barrier), slow);
    return received.filter((event) => event.interactionId === interactionId && event.eventId !== barrier);
  }

  const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);

  it('publishes exactly one due-soon and one breached event per interaction with two replicas sweeping concurrently', async () => {
    const record = await mail();
    const dueAt = record.serviceLevelDueAt as number;
    expect(dueAt).toBe((record.queuedAt ?? 0) + 120 * MINUTE);
    const [a, b] = [routerCore(), routerCore()];
    const sweepBoth = async () => sum(await Promise.all([a.sweepAlerts(), b.sweepAlerts()]));

    now = dueAt - 31 * MINUTE; // on track: nothing
    expect(await sweepBoth()).toBe(0);
    now = dueAt - 20 * MINUTE; // within the 30-minute due-soon window
    expect(await sweepBoth()).toBe(1);
    expect(await sweepBoth()).toBe(0);
    const dueSoonAt = now;
    now = dueAt + MINUTE; // breached
    expect(await sweepBoth()).toBe(1);
    expect(await sweepBoth()).toBe(0);
    now += 10 * MINUTE;
    expect(await sweepBoth()).toBe(0);

    const alerts = await alertsOf(record.interactionId);
    expect(alerts).toEqual([
      AlertEvent.fromPartial({
        eventId: `${tenant}/${record.interactionId}/sla-due-soon`,
        tenantId: tenant,
        occurredAt: new Date(dueSoonAt),
        kind: AlertKind.ALERT_KIND_SLA_DUE_SOON,
        status: AlertStatus.ALERT_STATUS_FIRING,
        interactionId: record.interactionId,
        queueId: 'billing',
        dueAt: new Date(dueAt),
      }),
      AlertEvent.fromPartial({
        eventId: `${tenant}/${record.interactionId}/sla-breached`,
        tenantId: tenant,
        occurredAt: new Date(dueAt + MINUTE),
        kind: AlertKind.ALERT_KIND_SLA_BREACHED,
        status: AlertStatus.ALERT_STATUS_FIRING,
        interactionId: record.interactionId,
        queueId: 'billing',
        dueAt: new Date(dueAt),
      }),
    ]);
  });

  it('publishes an alert once after a sweep died between claiming and publishing it, and not again', async () => {
    const record = await mail();
    const dueAt = record.serviceLevelDueAt as number;
    now = dueAt - 20 * MINUTE;
    const crashing = routerCore({
      publishAlert: async () => {
        throw new Error('bus down');
      },
    });
    await expect(crashing.sweepAlerts()).rejects.toThrow('bus down');
    const claim = await harness.stores.alerts.get(`${tenant}/${record.interactionId}/sla-due-soon`);
    expect(claim?.raisedAt).toBe(now);
    expect(claim?.publishedAt).toBeUndefined();

    // The restarted replica (and a second one): the young claim may still be in flight, so it waits…
    const [restarted, other] = [routerCore(), routerCore()];
    expect(await restarted.sweepAlerts()).toBe(0);
    // …and publishes it once the relay delay (30 s by default) has passed.
    now += 31_000;
    expect(await restarted.sweepAlerts()).toBe(1);
    expect(sum(await Promise.all([restarted.sweepAlerts(), other.sweepAlerts()]))).toBe(0);
    expect((await harness.stores.alerts.get(`${tenant}/${record.interactionId}/sla-due-soon`))?.publishedAt).toBe(now);

    const alerts = await alertsOf(record.interactionId);
    expect(alerts.map((event) => [event.eventId, event.kind, event.occurredAt])).toEqual([
      [`${tenant}/${record.interactionId}/sla-due-soon`, AlertKind.ALERT_KIND_SLA_DUE_SOON, new Date(now - 31_000)],
    ]);
  });

  it('keeps the claims of an interaction while it owes its first response and prunes them once it is done and the retention passed', async () => {
    const record = await mail();
    const dueAt = record.serviceLevelDueAt as number;
    const core = routerCore({ alertRetentionMs: 60 * MINUTE });
    now = dueAt + MINUTE;
    await core.sweepAlerts(); // (the earlier tests' interactions are breached by now too)
    const claimKey = `${tenant}/${record.interactionId}/sla-breached`;
    expect((await harness.stores.alerts.get(claimKey))?.publishedAt).toBe(now);
    now += 61 * MINUTE; // retention passed, but it still owes its reply: kept (and looked at again later)
    await core.sweepAlerts();
    expect(await harness.stores.alerts.get(claimKey)).toBeDefined();
    await harness.admin(tenant).completeInteraction({ interactionId: record.interactionId, dispositionCode: '', note: '' });
    now += 61 * MINUTE;
    await core.sweepAlerts();
    expect(await harness.stores.alerts.get(claimKey)).toBeUndefined();
    // Nothing pending or due for pruning is left behind for it.
    const markers = await harness.stores.alerts.list({ prefix: '~', limit: 1_000 });
    expect(markers.filter((row) => row.key.endsWith(claimKey))).toEqual([]);
  });
});
