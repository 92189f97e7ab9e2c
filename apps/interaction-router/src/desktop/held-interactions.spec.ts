import { AgentPresence, CompleteRequest, InteractionState, TransferRequest } from '@mailroute/contracts';
import { FailedPreconditionError, NotFoundError, ValidationError } from '@mailroute/platform';
import { createTestCore, type TestCore } from '../../test/router-core.fixture';
import { createHeldInteractions } from './held-interactions';

const alice = { tenantId: 't1', agentId: 'alice', agentName: 'Alice' };
const bob = { tenantId: 't1', agentId: 'bob', agentName: 'Bob' };
const S = InteractionState;

const toQueue = (queueId: string) =>
  TransferRequest.fromPartial({ interactionId: 'i1', target: { target: { $case: 'queueId', value: queueId } }, note: 'yours' });
const toAgent = (agentId: string) =>
  TransferRequest.fromPartial({ interactionId: 'i1', target: { target: { $case: 'agentId', value: agentId } }, note: 'yours' });
const snapshotOf = async (t: TestCore, agentId: string) => (await t.core.agentViews('t1')).get(agentId)?.snapshot;

describe('what an agent does with an interaction it holds', () => {
  let t: TestCore;
  beforeEach(async () => {
    t = createTestCore();
    await t.assignedToAlice('i1');
  });
  afterEach(() => t.close());

  it('complete: COMPLETED with the disposition code, the slot freed; completing again answers the same interaction', async () => {
    const held = createHeldInteractions({ core: t.core, stores: t.stores });
    const done = await held.complete(alice, CompleteRequest.fromPartial({ interactionId: 'i1', dispositionCode: 'solved' }));
    expect(done.state).toBe(S.INTERACTION_STATE_COMPLETED);
    expect(done.dispositionCode).toBe('solved');
    expect(await snapshotOf(t, 'alice')).toMatchObject({ activeInteractions: 0 });
    expect((await held.complete(alice, CompleteRequest.fromPartial({ interactionId: 'i1' }))).version).toBe(done.version);
    await expect(held.complete(bob, CompleteRequest.fromPartial({ interactionId: 'i1' }))).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      held.complete(alice, CompleteRequest.fromPartial({ interactionId: 'i1', dispositionCode: 'x'.repeat(65) })),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('complete reads the interaction once', async () => {
    const held = createHeldInteractions({ core: t.core, stores: t.stores });
    const reads = jest.spyOn(t.stores.interactions, 'get');
    await held.complete(alice, CompleteRequest.fromPartial({ interactionId: 'i1' }));
    expect(reads.mock.calls.filter(([, id]) => id === 'i1')).toHaveLength(1);
  });

  it('complete decides again when another writer committed after its read', async () => {
    const held = createHeldInteractions({ core: t.core, stores: t.stores });
    const stale = await t.stores.interactions.get('t1', 'i1');
    if (!stale) throw new Error('no interaction');
    await t.core.applyChange(stale, { type: 'customer-reply', at: t.now() }); // a customer's follow-up merged in
    const reads = jest.spyOn(t.stores.interactions, 'get').mockImplementationOnce(async () => stale);
    const done = await held.complete(alice, CompleteRequest.fromPartial({ interactionId: 'i1' }));
    expect(done.state).toBe(S.INTERACTION_STATE_COMPLETED);
    expect(done.version).toBe(stale.version + 2);
    expect(reads.mock.calls.filter(([, id]) => id === 'i1')).toHaveLength(2);
  });

  it('transfer to a queue: waiting there again, the agent’s slot freed; an unknown queue is NOT_FOUND', async () => {
    await t.addQueue('t1', 'q2');
    const held = createHeldInteractions({ core: t.core, stores: t.stores });
    await expect(held.transfer(alice, toQueue('nope'))).rejects.toBeInstanceOf(NotFoundError);
    const moved = await held.transfer(alice, toQueue('q2'));
    expect(moved.state).toBe(S.INTERACTION_STATE_QUEUED);
    expect(moved.queueId).toBe('q2');
    expect(await snapshotOf(t, 'alice')).toMatchObject({ activeInteractions: 0 });
  });

  it('transfer to an agent: an offer to them lapsing after the queue’s offer timeout; refused while they are offline', async () => {
    await t.addAgent('t1', 'bob', { queueIds: ['q'] });
    const held = createHeldInteractions({ core: t.core, stores: t.stores });
    await expect(held.transfer(alice, toAgent('bob'))).rejects.toBeInstanceOf(FailedPreconditionError);
    expect((await snapshotOf(t, 'bob'))?.presence).toBe(AgentPresence.AGENT_PRESENCE_OFFLINE);
    await t.connect('t1', 'bob');
    const offered = await held.transfer(alice, toAgent('bob'));
    expect(offered.state).toBe(S.INTERACTION_STATE_OFFERED);
    expect(offered.offeredAgentId).toBe('bob');
    expect(offered.offerExpiresAt?.getTime()).toBe(t.now() + 10_000);
    expect(await snapshotOf(t, 'bob')).toMatchObject({ pendingOffers: 1 });
    expect(await snapshotOf(t, 'alice')).toMatchObject({ activeInteractions: 0 });
  });
});
