import { AlertEvent, AlertKind, AlertStatus, InteractionState, Queue } from '@mailroute/contracts';
import { eventKey, events, fromEventMessage, toEventMessage, type Subscription } from '@mailroute/messaging';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { createRouterCore } from './routing/router-core';
import { silentLogger } from '../test/router-core.fixture';
import { createTestIdentityProvider, startHarness, type Harness } from '../test/router-harness';

/**
 * Queue threshold alerts on Kafka: a real router replica (the harness, real FerretDB and Kafka, its
 * own alert sweep slowed down) takes the mail in through the bus and serves the workload-manager API;
 * the alert sweeps under test run in two router cores over the same stores and bus, on a clock the
 * test moves.
 */
const slow = { timeoutMs: 90_000, intervalMs: 100 };
const MINUTE = 60_000;

describe('queue threshold alert events', () => {
  const tenant = randomId('t-qalerts');
  let harness: Harness;
  let subscription: Subscription;
  const received: AlertEvent[] = [];
  let now = Date.now();

  beforeAll(async () => {
    const idp = await createTestIdentityProvider(new Map([[randomId('dir-qalerts'), tenant]]));
    harness = await startHarness({
      infra: testInfra(),
      replicas: 1,
      tenants: [tenant],
      verifier: idp.verifier,
      alertSweepIntervalMs: 3_600_000,
    });
    const admin = harness.admin(tenant);
    await admin.createQueue({ queueId: 'spare', queue: Queue.fromPartial({ displayName: 'Spare' }) });
    await admin.createQueue({ queueId: 'orders', queue: Queue.fromPartial({ displayName: 'Orders' }) });
    // Set through UpdateQueue with a mask, as the CLI's `queue alerts` does.
    await admin.updateQueue({
      queueId: 'orders',
      queue: Queue.fromPartial({ alertThresholds: { waitingCount: 2, longestWait: { seconds: 600, nanos: 0 } } }),
      updateMask: ['alert_thresholds'],
      etag: '',
    });
    subscription = await harness.bus.subscribe({
      groupId: randomId('qalert-watch'),
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

  const routerCore = () =>
    createRouterCore({ stores: harness.stores, bus: harness.bus, logger: silentLogger, clock: () => now, configCacheMs: 0 });

  async function mail(): Promise<string> {
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: 'orders',
      message: { subject: 'Order', conversationId: `conv-${interactionId}`, graphMessageId: `g-${interactionId}` } as never,
    });
    await waitFor(
      async () =>
        (await harness.stores.interactions.get(tenant, interactionId))?.state === InteractionState.INTERACTION_STATE_QUEUED,
      slow,
    );
    return interactionId;
  }

  /** The queue's alert events once everything published before this call was consumed (a barrier on the same key). */
  async function alertsOfQueue(queueId: string): Promise<AlertEvent[]> {
    const barrier = randomId('barrier');
    await harness.bus.publish(
      events.alert.topic,
      toEventMessage('alert', eventKey(tenant, queueId), AlertEvent.fromPartial({ eventId: barrier, tenantId: tenant, queueId })),
    );
    await waitFor(() => received.some((event) => event.eventId === barrier), slow);
    return received.filter((event) => event.queueId === queueId && event.eventId !== barrier);
  }

  const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);

  it('publishes one event when a queue crosses each threshold and one when it recovers, with two replicas sweeping concurrently', async () => {
    const [a, b] = [routerCore(), routerCore()];
    const sweepBoth = async () => sum(await Promise.all([a.sweepAlerts(), b.sweepAlerts()]));
    const first = await mail();
    now = Date.now();
    expect(await sweepBoth()).toBe(0); // 1 waiting, under both thresholds
    const second = await mail();
    now = Date.now();
    expect(await sweepBoth()).toBe(1); // 2 waiting: the count threshold
    expect(await sweepBoth()).toBe(0);
    const countFiredAt = now;
    now += 11 * MINUTE; // the oldest has waited over 10 minutes
    expect(await sweepBoth()).toBe(1);
    expect(await sweepBoth()).toBe(0);
    const waitFiredAt = now;

    // One leaves: 1 waiting is 50 % of the count threshold, so that resolves; the other still waits 11+ minutes.
    await harness.admin(tenant).transferInteraction({
      interactionId: first,
      target: { target: { $case: 'queueId', value: 'spare' } },
      requiredSkills: [],
      note: '',
    });
    now += MINUTE;
    expect(await sweepBoth()).toBe(1);
    const countResolvedAt = now;
    await harness.admin(tenant).transferInteraction({
      interactionId: second,
      target: { target: { $case: 'queueId', value: 'spare' } },
      requiredSkills: [],
      note: '',
    });
    now += MINUTE;
    expect(await sweepBoth()).toBe(1);
    expect(await sweepBoth()).toBe(0);
    const waitResolvedAt = now;

    const alerts = await alertsOfQueue('orders');
    expect(alerts.map((e) => [e.eventId, e.kind, e.status, e.occurredAt?.getTime(), e.threshold])).toEqual([
      [
        `${tenant}/orders/queue-waiting-count/00000001/firing`,
        AlertKind.ALERT_KIND_QUEUE_WAITING_COUNT,
        AlertStatus.ALERT_STATUS_FIRING,
        countFiredAt,
        2,
      ],
      [
        `${tenant}/orders/queue-longest-wait/00000001/firing`,
        AlertKind.ALERT_KIND_QUEUE_LONGEST_WAIT,
        AlertStatus.ALERT_STATUS_FIRING,
        waitFiredAt,
        600,
      ],
      [
        `${tenant}/orders/queue-waiting-count/00000001/resolved`,
        AlertKind.ALERT_KIND_QUEUE_WAITING_COUNT,
        AlertStatus.ALERT_STATUS_RESOLVED,
        countResolvedAt,
        2,
      ],
      [
        `${tenant}/orders/queue-longest-wait/00000001/resolved`,
        AlertKind.ALERT_KIND_QUEUE_LONGEST_WAIT,
        AlertStatus.ALERT_STATUS_RESOLVED,
        waitResolvedAt,
        600,
      ],
    ]);
    expect(alerts.map((e) => e.value)).toEqual([2, expect.any(Number), 1, 0]);
    expect(alerts[1]?.value).toBeGreaterThanOrEqual(660);
    // The spare queue has no thresholds: nothing about it.
    expect(received.filter((e) => e.queueId === 'spare')).toEqual([]);
  });

  it('refuses a longest-wait threshold outside 1m-30d, naming the field', async () => {
    await expect(
      harness.admin(tenant).updateQueue({
        queueId: 'orders',
        queue: Queue.fromPartial({ alertThresholds: { longestWait: { seconds: 5, nanos: 0 } } }),
        updateMask: ['alert_thresholds'],
        etag: '',
      }),
    ).rejects.toMatchObject({ details: expect.stringContaining('queue.alert_thresholds.longest_wait') });
  });
});
