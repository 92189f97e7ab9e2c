import { InteractionState } from '@mailroute/contracts';
import { createTestCore, subjectRule, type TestCore } from '../../test/router-core.fixture';
import { slotPrefix } from '../store/router-keys';

const S = InteractionState;

describe('planning', () => {
  let t: TestCore;
  beforeEach(async () => {
    t = createTestCore();
    await t.addQueue('t1', 'q', { offerTimeout: { seconds: 10, nanos: 0 } });
    await t.addRule('t1', 'help', subjectRule('help', 'q'));
    await t.addAgent('t1', 'alice', { queueIds: ['q'], capacity: 1 });
  });
  afterEach(() => t.close());

  const take = (interactionId: string) =>
    t.core.intake(t.inbound({ tenantId: 't1', interactionId, message: { subject: 'help' } as never }));

  it('has nothing to do for a tenant with no waiting interaction', async () => {
    expect(await t.core.planTenant('t1')).toEqual({ offers: 0, nextWakeAt: undefined });
  });

  it('offers a waiting interaction to a connected agent with free capacity, holding one of its slots', async () => {
    await t.connect('t1', 'alice');
    await take('i1');
    expect((await t.core.planTenant('t1')).offers).toBe(1);
    expect(await t.stores.interactions.get('t1', 'i1')).toMatchObject({
      state: S.INTERACTION_STATE_OFFERED,
      offeredAgentId: 'alice',
      offerExpiresAt: t.now() + 10_000,
    });
    expect((await t.stores.slots.list({ prefix: slotPrefix('t1', 'alice'), limit: 10 })).map((s) => s.document)).toEqual([
      { interactionId: 'i1', kind: 'offer', at: t.now() },
    ]);
  });

  it('never offers an agent more than its capacity, and no offer to an agent not connected', async () => {
    await take('i1');
    expect((await t.core.planTenant('t1')).offers).toBe(0);
    await t.connect('t1', 'alice');
    await take('i2');
    expect((await t.core.planTenant('t1')).offers).toBe(1);
    expect((await t.core.planTenant('t1')).offers).toBe(0);
    const states = await Promise.all(['i1', 'i2'].map(async (id) => (await t.stores.interactions.get('t1', id))?.state));
    expect(states.filter((s) => s === S.INTERACTION_STATE_OFFERED)).toHaveLength(1);
  });
});
