import { InteractionState } from '@mailroute/contracts';
import { events } from '@mailroute/messaging';
import { createRecordingBus, createTestCore } from '../../test/router-core.fixture';
import { receivedRecord } from '../routing/interaction-mapping';
import { toChange } from './change-commit';
import { createChangePublisher, toStateChangedEvent } from './change-events';

describe('change events', () => {
  it('publish a committed change as InteractionStateChanged keyed by tenant/interaction, a fresh event id each time', async () => {
    const t = createTestCore();
    const received = receivedRecord(t.inbound({ tenantId: 't1', interactionId: 'i1' }), t.now());
    const { entry } = toChange(received, { type: 'route', at: t.now(), queueId: 'q', priority: 100, requiredSkills: [] });
    const event = toStateChangedEvent(entry);
    expect(event).toMatchObject({
      tenantId: 't1',
      interactionId: 'i1',
      version: 2,
      previousState: InteractionState.INTERACTION_STATE_RECEIVED,
      state: InteractionState.INTERACTION_STATE_QUEUED,
      queueId: 'q',
      occurredAt: new Date(t.now()),
    });
    expect(event.interaction?.interactionId).toBe('i1');
    const bus = createRecordingBus();
    const publish = createChangePublisher(bus.bus);
    await publish(entry);
    await publish(entry);
    expect(bus.published.map((p) => [p.topic, p.message.key])).toEqual([
      [events.interactionStateChanged.topic, 't1/i1'],
      [events.interactionStateChanged.topic, 't1/i1'],
    ]);
    const [first, second] = bus.stateChanges();
    expect(first?.eventId).not.toBe(second?.eventId);
    await t.close();
  });
});
