import { openEmbeddedRouterStores } from '../store/embedded-router-stores';
import { agentKey, slotPrefix } from '../store/router-keys';
import { createCapacitySlots } from './capacity-slots';

describe('capacity slots', () => {
  const stores = openEmbeddedRouterStores(':memory:');
  afterAll(() => stores.close());
  let now = 1_000;
  const slots = createCapacitySlots({ stores, clock: () => now });
  const held = async () => (await stores.slots.list({ prefix: slotPrefix('t1', 'alice'), limit: 10 })).map((s) => s.document);

  it('claims at most `capacity` slots, and says when the interaction already held one', async () => {
    const a = await slots.claimSlot('t1', 'alice', 2, 'i1', 'offer');
    const b = await slots.claimSlot('t1', 'alice', 2, 'i2', 'assigned');
    expect(a).toEqual({ key: 't1/alice/000', fresh: true });
    expect(b).toEqual({ key: 't1/alice/001', fresh: true });
    expect(await slots.claimSlot('t1', 'alice', 2, 'i3', 'offer')).toBeUndefined();
    expect(await slots.claimSlot('t1', 'alice', 2, 'i1', 'offer')).toEqual({ key: 't1/alice/000', fresh: false });
  });

  it('gives back only fresh claims', async () => {
    await slots.undoClaim({ key: 't1/alice/000', fresh: false });
    expect(await held()).toHaveLength(2);
    await slots.undoClaim({ key: 't1/alice/000', fresh: true });
    expect((await held()).map((s) => s.interactionId)).toEqual(['i2']);
  });

  it('marks an accepted offer assigned, and restarts idle time when assigned work is released', async () => {
    await slots.claimSlot('t1', 'alice', 2, 'i4', 'offer');
    now = 2_000;
    await slots.markSlotAssigned('t1', 'alice', 'i4');
    expect((await held()).find((s) => s.interactionId === 'i4')).toEqual({ interactionId: 'i4', kind: 'assigned', at: 2_000 });
    now = 3_000;
    await slots.releaseSlot('t1', 'alice', 'i4');
    expect((await held()).map((s) => s.interactionId)).toEqual(['i2']);
    expect(await stores.activity.get(agentKey('t1', 'alice'))).toEqual({ lastEndedAt: 3_000, lastAssignedAt: 2_000 });
    await slots.releaseSlot('t1', undefined, 'i2');
    expect(await held()).toHaveLength(1);
  });
});
