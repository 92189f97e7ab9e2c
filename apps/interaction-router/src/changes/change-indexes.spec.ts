import { InteractionState } from '@mailroute/contracts';
import type { InteractionRecord } from '@mailroute/persistence';
import { openEmbeddedRouterStores } from '../store/embedded-router-stores';
import { conversationKey, interactionKey } from '../store/router-keys';
import { createChangeIndexes, indexesTouched, toWaitingDocument } from './change-indexes';

const S = InteractionState;

const record = (patch: Partial<InteractionRecord>): InteractionRecord =>
  ({
    tenantId: 't1',
    interactionId: 'i1',
    version: 2,
    state: S.INTERACTION_STATE_QUEUED,
    queueId: 'q',
    priority: 100,
    requiredSkills: [],
    createdAt: 10,
    queuedAt: 20,
    escalationStepsApplied: 0,
    declinedBy: [],
    conversationId: 'conv',
    ...patch,
  }) as InteractionRecord;

describe('indexesTouched', () => {
  it('touches every index when the previous state is unknown (a repair)', () => {
    expect(indexesTouched({ state: S.INTERACTION_STATE_ASSIGNED })).toEqual({ waiting: true, offer: true, conversation: true });
  });

  it('touches the waiting index only around QUEUED, the offer index only around OFFERED, the conversation only when it opens or closes', () => {
    expect(indexesTouched({ state: S.INTERACTION_STATE_QUEUED }, S.INTERACTION_STATE_RECEIVED)).toEqual({
      waiting: true,
      offer: false,
      conversation: true,
    });
    expect(indexesTouched({ state: S.INTERACTION_STATE_OFFERED }, S.INTERACTION_STATE_QUEUED)).toEqual({
      waiting: true,
      offer: true,
      conversation: false,
    });
    expect(indexesTouched({ state: S.INTERACTION_STATE_REPLIED }, S.INTERACTION_STATE_ASSIGNED)).toEqual({
      waiting: false,
      offer: false,
      conversation: false,
    });
    expect(indexesTouched({ state: S.INTERACTION_STATE_COMPLETED }, S.INTERACTION_STATE_REPLIED)).toEqual({
      waiting: false,
      offer: false,
      conversation: true,
    });
  });
});

describe('the change indexes', () => {
  const stores = openEmbeddedRouterStores(':memory:');
  afterAll(() => stores.close());
  const noted: Array<[string, string, unknown]> = [];
  const indexes = createChangeIndexes({
    stores,
    waitingView: { noteCommitted: (tenantId, interactionId, entry) => noted.push([tenantId, interactionId, entry]) },
  });

  it('keeps a QUEUED interaction in the waiting index and tells the planner view', async () => {
    const queued = record({});
    await indexes.maintain(queued, S.INTERACTION_STATE_RECEIVED);
    expect(await stores.waiting.get(interactionKey('t1', 'i1'))).toEqual(toWaitingDocument(queued));
    expect(toWaitingDocument(queued)).toMatchObject({ version: 2, queuedAt: 20, enteredQueueAt: 20 });
    expect(noted).toEqual([['t1', 'i1', toWaitingDocument(queued)]]);
    expect((await stores.conversations.get(conversationKey('t1', 'conv')))?.openInteractionId).toBe('i1');
  });

  it('moves an offered interaction from the waiting index to the offer index', async () => {
    await indexes.maintain(
      record({ version: 3, state: S.INTERACTION_STATE_OFFERED, offeredAgentId: 'alice', offerExpiresAt: 99 }),
      S.INTERACTION_STATE_QUEUED,
    );
    expect(await stores.waiting.get(interactionKey('t1', 'i1'))).toBeUndefined();
    expect(await stores.offers.get(interactionKey('t1', 'i1'))).toEqual({ version: 3, agentId: 'alice', expiresAt: 99 });
    expect(noted.at(-1)).toEqual(['t1', 'i1', undefined]);
  });

  it('closes the conversation with the agent who completed it (affinity)', async () => {
    await indexes.maintain(
      record({ version: 5, state: S.INTERACTION_STATE_COMPLETED, agentId: 'alice', closedAt: 500 }),
      S.INTERACTION_STATE_REPLIED,
    );
    expect(await stores.conversations.get(conversationKey('t1', 'conv'))).toEqual({
      openInteractionId: undefined,
      lastClosed: { interactionId: 'i1', agentId: 'alice', closedAt: 500 },
    });
  });
});
