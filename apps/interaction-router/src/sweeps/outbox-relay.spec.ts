import { InteractionState } from '@mailroute/contracts';
import { createTestCore } from '../../test/router-core.fixture';
import { toChange } from '../changes/change-commit';
import { changeOutboxKey, interactionKey } from '../store/router-keys';

describe('the outbox relay', () => {
  it('finishes a change committed but not published (a crash in between): indexes and event, then marks it published', async () => {
    const t = createTestCore();
    await t.addQueue('t1', 'q');
    await t.addQueue('t1', 'q2');
    await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1', defaultQueueId: 'q' }));
    await t.core.flushMarkers();
    expect(await t.stores.interactions.listUnpublished(t.now() + 60_000, 10)).toEqual([]);
    // As if the writer of version 3 died right after its commit: the one write holds the change and its outbox entry.
    const record = await t.stores.interactions.get('t1', 'i1');
    if (!record) throw new Error('no interaction');
    const { entry } = toChange(record, {
      type: 'overflow',
      at: t.now(),
      queueId: 'q2',
      resetWaitTime: false,
      requiredSkills: [],
    });
    expect(await t.stores.interactions.commit(entry, { unpublishedAt: t.now() })).toBe('committed');
    const before = t.bus.stateChanges().length;
    expect(await t.core.relayUnpublished()).toBe(0);
    t.advance(5_000);
    expect(await t.core.relayUnpublished()).toBe(1);
    expect(
      t.bus
        .stateChanges()
        .slice(before)
        .map((e) => [e.version, e.queueId]),
    ).toEqual([[3, 'q2']]);
    expect((await t.stores.waiting.get(interactionKey('t1', 'i1')))?.queueId).toBe('q2');
    expect(await t.stores.interactions.listUnpublished(t.now(), 10)).toEqual([]);
    expect(await t.core.relayUnpublished()).toBe(0);
    await t.close();
  });

  it('finishes a change whose outbox marker an earlier version wrote: indexes and event, then drops the marker', async () => {
    const t = createTestCore();
    await t.addQueue('t1', 'q');
    await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1', defaultQueueId: 'q' }));
    await t.core.flushMarkers(); // the intake's own markers (published, deleted in a batch)
    // As if the writer of version 2 died after the commit: its index entry and its event are missing.
    await t.stores.waiting.delete(interactionKey('t1', 'i1'));
    const marker = changeOutboxKey('t1', 'i1', 2, 'crashed-writer');
    await t.stores.outbox.insert(marker, { at: t.now() });
    const before = t.bus.stateChanges().length;
    expect(await t.core.relayUnpublished()).toBe(0);
    t.advance(5_000);
    expect(await t.core.relayUnpublished()).toBe(1);
    expect(
      t.bus
        .stateChanges()
        .slice(before)
        .map((e) => [e.version, e.state]),
    ).toEqual([[2, InteractionState.INTERACTION_STATE_QUEUED]]);
    expect(await t.stores.waiting.get(interactionKey('t1', 'i1'))).toBeDefined();
    expect(await t.stores.outbox.list({ prefix: '', limit: 10 })).toEqual([]);
    await t.close();
  });

  it('leaves a marker without its change to its writer for a minute, then drops it', async () => {
    const t = createTestCore();
    const marker = changeOutboxKey('t1', 'i9', 4, 'slow-writer');
    await t.stores.outbox.insert(marker, { at: t.now() });
    t.advance(5_000);
    expect(await t.core.relayUnpublished()).toBe(0);
    expect(await t.stores.outbox.list({ prefix: '', limit: 10 })).toHaveLength(1);
    t.advance(60_000);
    expect(await t.core.relayUnpublished()).toBe(0);
    expect(await t.stores.outbox.list({ prefix: '', limit: 10 })).toEqual([]);
    await t.close();
  });
});
