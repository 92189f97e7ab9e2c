import { AcceptRequest, DeclineRequest, InteractionState } from '@mailroute/contracts';
import { FailedPreconditionError, NotFoundError, ValidationError } from '@mailroute/platform';
import { createTestCore, subjectRule, type TestCore } from '../../test/router-core.fixture';
import { offerIdOf } from '../routing/interaction-mapping';
import { createOfferAnswers } from './offer-answers';

const alice = { tenantId: 't1', agentId: 'alice', agentName: 'Alice' };
const bob = { tenantId: 't1', agentId: 'bob', agentName: 'Bob' };

/** Tenant t1, queue q, agent alice (capacity 1, connected) and `i1` taken in and offered to her. */
async function offeredToAlice(t: TestCore): Promise<string> {
  await t.addQueue('t1', 'q', { offerTimeout: { seconds: 10, nanos: 0 } });
  await t.addRule('t1', 'help', subjectRule('help', 'q'));
  await t.addAgent('t1', 'alice', { queueIds: ['q'] });
  await t.connect('t1', 'alice');
  await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1', message: { subject: 'help please' } as never }));
  await t.core.planTenant('t1');
  const offered = await t.stores.interactions.get('t1', 'i1');
  if (offered?.state !== InteractionState.INTERACTION_STATE_OFFERED) throw new Error('i1 was not offered to alice');
  return offerIdOf(offered);
}

const aliceSnapshot = async (t: TestCore) => (await t.core.agentViews('t1')).get('alice')?.snapshot;

describe('an agent’s answer to an offer', () => {
  let t: TestCore;
  beforeEach(() => {
    t = createTestCore();
  });
  afterEach(() => t.close());

  it('accept makes the offer the agent’s (ASSIGNED, slot assigned); accepting again answers the same interaction', async () => {
    const offerId = await offeredToAlice(t);
    const offers = createOfferAnswers({ core: t.core, stores: t.stores });
    const accepted = await offers.accept(alice, AcceptRequest.fromPartial({ offerId }));
    expect(accepted.state).toBe(InteractionState.INTERACTION_STATE_ASSIGNED);
    expect(accepted.agentId).toBe('alice');
    expect(await aliceSnapshot(t)).toMatchObject({ activeInteractions: 1, pendingOffers: 0 });
    const again = await offers.accept(alice, AcceptRequest.fromPartial({ offerId }));
    expect(again.version).toBe(accepted.version);
  });

  it('accept refuses a malformed offer id (INVALID_ARGUMENT), another agent’s offer or a declined one (NOT_FOUND), an earlier offer (FAILED_PRECONDITION)', async () => {
    const offerId = await offeredToAlice(t);
    const offers = createOfferAnswers({ core: t.core, stores: t.stores });
    await expect(offers.accept(alice, AcceptRequest.fromPartial({ offerId: 'nope' }))).rejects.toBeInstanceOf(ValidationError);
    await expect(offers.accept(bob, AcceptRequest.fromPartial({ offerId }))).rejects.toBeInstanceOf(NotFoundError);
    const [interactionId, version] = offerId.split('~');
    await expect(
      offers.accept(alice, AcceptRequest.fromPartial({ offerId: `${interactionId}~${Number(version) - 1}` })),
    ).rejects.toBeInstanceOf(FailedPreconditionError);
    await offers.decline(alice, DeclineRequest.fromPartial({ offerId, reason: 'busy' }));
    await expect(offers.accept(alice, AcceptRequest.fromPartial({ offerId }))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('decline puts the interaction back in the queue and frees the slot; declining again changes nothing', async () => {
    const offerId = await offeredToAlice(t);
    const offers = createOfferAnswers({ core: t.core, stores: t.stores });
    await offers.decline(alice, DeclineRequest.fromPartial({ offerId, reason: 'busy' }));
    const after = await t.stores.interactions.get('t1', 'i1');
    expect(after?.state).toBe(InteractionState.INTERACTION_STATE_QUEUED);
    expect(await aliceSnapshot(t)).toMatchObject({ activeInteractions: 0, pendingOffers: 0 });
    await offers.decline(alice, DeclineRequest.fromPartial({ offerId, reason: 'busy' }));
    expect((await t.stores.interactions.get('t1', 'i1'))?.version).toBe(after?.version);
    await expect(offers.decline(alice, DeclineRequest.fromPartial({ offerId, reason: 'x'.repeat(257) }))).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
