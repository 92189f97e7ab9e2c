import { AlertEvent, AlertKind, AlertStatus, InteractionState } from '@mailroute/contracts';
import { events } from '@mailroute/messaging';
import { createTestCore } from '../../test/router-core.fixture';

const HOUR = 3_600_000;

describe('the SLA alert sweep', () => {
  it('alerts an interaction held by an agent for the state it is in when swept: breached only, when first seen breached', async () => {
    const t = createTestCore();
    const held = await t.assignedToAlice('i1');
    expect(held.state).toBe(InteractionState.INTERACTION_STATE_ASSIGNED);
    // The queue's defaults: due 4 h after queueing, due soon from 1 h before.
    t.advance(2 * HOUR);
    expect(await t.core.sweepAlerts()).toBe(0);
    t.advance(3 * HOUR);
    expect(await t.core.sweepAlerts()).toBe(1);
    expect(await t.core.sweepAlerts()).toBe(0);
    const alerts = t.bus.published
      .filter((p) => p.topic === events.alert.topic)
      .map((p) => ({ key: p.message.key, event: events.alert.codec.decode(p.message.value) }));
    expect(alerts).toEqual([
      {
        key: 't1/i1',
        event: AlertEvent.fromPartial({
          eventId: 't1/i1/sla-breached',
          tenantId: 't1',
          occurredAt: new Date(t.now()),
          kind: AlertKind.ALERT_KIND_SLA_BREACHED,
          status: AlertStatus.ALERT_STATUS_FIRING,
          interactionId: 'i1',
          queueId: 'q',
          dueAt: new Date(held.serviceLevelDueAt as number),
        }),
      },
    ]);
    await t.close();
  });
});
