import { InteractionState } from '@mailroute/contracts';
import { createTestCore, subjectRule } from '../../test/router-core.fixture';
import { interactionKey, slotKey, slotPrefix } from '../store/router-keys';

describe('the capacity slot reconciliation', () => {
  it('frees an old slot no interaction holds, and keeps held and recent ones', async () => {
    const t = createTestCore();
    await t.assignedToAlice('i1');
    await t.stores.slots.insert(slotKey('t1', 'alice', 5), { interactionId: 'gone', kind: 'offer', at: t.now() });
    expect(await t.core.reconcileSlots('t1')).toBe(0);
    t.advance(30_000);
    const woken: string[] = [];
    t.core.onWork((tenantId) => woken.push(tenantId));
    expect(await t.core.reconcileSlots('t1')).toBe(1);
    expect(
      (await t.stores.slots.list({ prefix: slotPrefix('t1', 'alice'), limit: 10 })).map((s) => s.document.interactionId),
    ).toEqual(['i1']);
    expect(woken).toEqual(['t1']);
    await t.close();
  });

  it('gives an offer long past its expiry whose offer index entry is gone its entry back, so the offer sweep returns it to the queue', async () => {
    const t = createTestCore();
    await t.addQueue('t1', 'q', { offerTimeout: { seconds: 10, nanos: 0 } });
    await t.addRule('t1', 'help', subjectRule('help', 'q'));
    await t.addAgent('t1', 'alice', { queueIds: ['q'] });
    await t.connect('t1', 'alice');
    await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1', message: { subject: 'help please' } as never }));
    await t.core.planTenant('t1');
    expect((await t.stores.interactions.get('t1', 'i1'))?.state).toBe(InteractionState.INTERACTION_STATE_OFFERED);
    // A killed replica's late delete of the offer entry (of an earlier offer) lands after this offer's entry was written.
    await t.stores.offers.delete(interactionKey('t1', 'i1'));
    t.advance(10_000 + 30_000);
    expect(await t.core.sweepExpiredOffers()).toEqual(new Set()); // the sweep reads only the offer index
    await t.core.reconcileSlots('t1');
    expect(await t.core.sweepExpiredOffers()).toEqual(new Set(['t1']));
    expect((await t.stores.interactions.get('t1', 'i1'))?.state).toBe(InteractionState.INTERACTION_STATE_QUEUED);
    await t.close();
  });
});
