import { AcceptRequest, CompleteRequest, InteractionState, ReplyRequest, SendState } from '@mailroute/contracts';
import { NotFoundError } from '@mailroute/platform';
import type { InteractionRecord } from '@mailroute/persistence';
import { createTestCore, type TestCore } from '../../test/router-core.fixture';
import { createAgentReplies } from '../replies/agent-reply';
import { offerIdOf } from '../routing/interaction-mapping';
import { createOfferAnswers } from './offer-answers';
import { createHeldInteractions } from './held-interactions';

const alice = { tenantId: 't1', agentId: 'alice', agentName: 'Alice' };
const bob = { tenantId: 't1', agentId: 'bob', agentName: 'Bob' };
const S = InteractionState;

/**
 * A replica killed while its write of an interaction's document (the offer, version n) was queued at
 * the database: FerretDB still applies a dead client's queued write, and under write contention after
 * writes acknowledged since — here the survivor's commit of version n+1 (the agent's accept). The
 * document is then back at the offer while the history says the agent holds it, and nothing moves it
 * forward until the next commit. The agent's own calls must not refuse it from that document.
 */
describe('an agent’s calls on an interaction whose document went back behind its history', () => {
  let t: TestCore;
  let held: InteractionRecord;
  /** The document as the killed replica's late write left it: the offer to alice, one version behind. */
  let behind: InteractionRecord;
  beforeEach(async () => {
    t = createTestCore();
    held = await t.assignedToAlice('i1');
    const offer = await t.stores.interactions.historyEntry('t1', 'i1', held.version - 1);
    if (offer?.interaction.state !== S.INTERACTION_STATE_OFFERED) throw new Error('no offer before the accept');
    behind = offer.interaction;
    // The document reads as the late write left it until something rolls it forward from the history.
    let reverted = true;
    const get = t.stores.interactions.get.bind(t.stores.interactions);
    const refresh = t.stores.interactions.refresh.bind(t.stores.interactions);
    jest
      .spyOn(t.stores.interactions, 'get')
      .mockImplementation(async (tenantId, interactionId) =>
        reverted && interactionId === 'i1' ? behind : get(tenantId, interactionId),
      );
    jest.spyOn(t.stores.interactions, 'refresh').mockImplementation(async (tenantId, interactionId) => {
      reverted = false;
      return refresh(tenantId, interactionId);
    });
  });
  afterEach(() => t.close());

  it('Reply is ACCEPTED for the agent who holds it (was NOT_FOUND from the document)', async () => {
    const replies = createAgentReplies({ core: t.core, stores: t.stores });
    const answer = await replies.reply(
      alice,
      ReplyRequest.fromPartial({
        idempotencyKey: 'reply-1',
        interactionId: 'i1',
        content: { subject: '', bodyText: 'Done', bodyHtml: '', to: [], cc: [] },
      }),
    );
    expect(answer.state).toBe(SendState.SEND_STATE_ACCEPTED);
  });

  it('Complete completes it (was NOT_FOUND from the document); another agent still gets NOT_FOUND', async () => {
    const actions = createHeldInteractions({ core: t.core, stores: t.stores });
    const done = await actions.complete(alice, CompleteRequest.fromPartial({ interactionId: 'i1', dispositionCode: 'done' }));
    expect(done.state).toBe(S.INTERACTION_STATE_COMPLETED);
    expect(done.version).toBe(held.version + 1);
    await expect(actions.complete(bob, CompleteRequest.fromPartial({ interactionId: 'i1' }))).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('Accept of an offer the document does not show yet (it went back to the queue) takes the offer', async () => {
    // Another interaction, offered to alice while the document still reads as queued: the offer's own write came back late.
    await t.addAgent('t1', 'carol', { queueIds: ['q'] });
    await t.connect('t1', 'carol');
    await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i2', message: { subject: 'help please' } as never }));
    const queued = await t.stores.interactions.get('t1', 'i2');
    await t.core.planTenant('t1');
    const offered = await t.stores.interactions.get('t1', 'i2');
    if (queued?.state !== S.INTERACTION_STATE_QUEUED || offered?.state !== S.INTERACTION_STATE_OFFERED)
      throw new Error('i2 was not queued, then offered');
    behind = queued;
    const get = jest.mocked(t.stores.interactions.get);
    get.mockImplementation(async () => behind);
    let reverted = true;
    jest.mocked(t.stores.interactions.refresh).mockImplementationOnce(async () => {
      reverted = false;
      get.mockImplementation(async () => (reverted ? behind : offered));
      return offered;
    });
    const accepted = await createOfferAnswers({ core: t.core, stores: t.stores }).accept(
      { tenantId: 't1', agentId: offered.offeredAgentId ?? '', agentName: 'Offered' },
      AcceptRequest.fromPartial({ offerId: offerIdOf(offered) }),
    );
    expect(accepted.state).toBe(S.INTERACTION_STATE_ASSIGNED);
    expect(accepted.agentId).toBe(offered.offeredAgentId);
  });
});
