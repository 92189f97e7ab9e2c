import { InteractionState } from '@mailroute/contracts';
import { createTestCore, subjectRule } from '../../test/router-core.fixture';
import { interactionKey, slotPrefix } from '../store/router-keys';

const S = InteractionState;

describe('the offer expiry sweep', () => {
  it('returns a lapsed offer to its queue and frees the agent’s slot; a current offer stays', async () => {
    const t = createTestCore();
    await t.addQueue('t1', 'q', { offerTimeout: { seconds: 10, nanos: 0 } });
    await t.addRule('t1', 'help', subjectRule('help', 'q'));
    await t.addAgent('t1', 'alice', { queueIds: ['q'] });
    await t.connect('t1', 'alice');
    await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1', message: { subject: 'help' } as never }));
    await t.core.planTenant('t1');
    expect(await t.core.sweepExpiredOffers()).toEqual(new Set());
    t.advance(10_000);
    expect(await t.core.sweepExpiredOffers()).toEqual(new Set(['t1']));
    expect((await t.stores.interactions.get('t1', 'i1'))?.state).toBe(S.INTERACTION_STATE_QUEUED);
    expect(await t.stores.offers.get(interactionKey('t1', 'i1'))).toBeUndefined();
    expect(await t.stores.slots.list({ prefix: slotPrefix('t1', 'alice'), limit: 10 })).toEqual([]);
    await t.close();
  });

  it('drops an offer index entry whose interaction is gone', async () => {
    const t = createTestCore();
    await t.stores.offers.put(interactionKey('t1', 'ghost'), { version: 3, agentId: 'alice', expiresAt: 0 });
    expect(await t.core.sweepExpiredOffers()).toEqual(new Set());
    expect(await t.stores.offers.get(interactionKey('t1', 'ghost'))).toBeUndefined();
    await t.close();
  });
});
