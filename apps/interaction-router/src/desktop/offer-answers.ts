import { InteractionState, type AcceptRequest, type DeclineRequest, type Interaction } from '@mailroute/contracts';
import { FailedPreconditionError, NotFoundError, ValidationError } from '@mailroute/platform';
import { offerVersionOf, parseOfferId, toInteraction } from '../routing/interaction-mapping';
import type { RouterCore } from '../routing/router-core';
import type { RouterStores } from '../store/router-stores';
import { heldBy, type DesktopAgent } from './agent-access';

const S = InteractionState;

/**
 * An agent's answer to an offer. Accept: the offer (this offer id: the interaction at the version it
 * was offered) becomes the agent's (ASSIGNED, its capacity slot marked assigned); accepting again
 * answers the same interaction. Decline: the offer goes back to the queue and the agent's slot is
 * freed; declining an offer that lapsed or moved on changes nothing.
 */
export function createOfferAnswers(deps: { core: RouterCore; stores: Pick<RouterStores, 'interactions'> }) {
  const { core, stores } = deps;

  async function accept(agent: DesktopAgent, request: AcceptRequest): Promise<Interaction> {
    const parsed = parseOfferId(request.offerId);
    if (!parsed) throw new ValidationError('offer_id', 'is not an offer id');
    let rolledForward = false;
    const accepted = await core
      .rereadOnConflict(agent.tenantId, parsed.interactionId, async (record) => {
        if (heldBy(record, agent.agentId) && record.version > parsed.version) return record;
        // A document older than the offer is behind its history (agent-access.ts, readConfirmed): decide on the newest version.
        if (record.version < parsed.version && !rolledForward) {
          rolledForward = true;
          await stores.interactions.refresh(agent.tenantId, parsed.interactionId);
          return 'retry';
        }
        if (
          record.state !== S.INTERACTION_STATE_OFFERED ||
          record.offeredAgentId !== agent.agentId ||
          offerVersionOf(record) !== parsed.version
        ) {
          if (record.offeredAgentId !== agent.agentId && record.agentId !== agent.agentId)
            throw new NotFoundError('offer', request.offerId);
          throw new FailedPreconditionError('the offer expired or was revoked');
        }
        const next = await core.applyChange(
          record,
          { type: 'accept', at: core.clock(), agentId: agent.agentId },
          { actorName: agent.agentName },
        );
        if (next) await core.markSlotAssigned(agent.tenantId, agent.agentId, record.interactionId);
        return next ?? 'retry';
      })
      .catch((error: unknown) => {
        if (error instanceof NotFoundError) throw new NotFoundError('offer', request.offerId);
        throw error;
      });
    if (!accepted) throw new FailedPreconditionError('the offer expired or was revoked');
    return toInteraction(accepted);
  }

  async function decline(agent: DesktopAgent, request: DeclineRequest): Promise<void> {
    const parsed = parseOfferId(request.offerId);
    if (!parsed) throw new ValidationError('offer_id', 'is not an offer id');
    if (request.reason.length > 256) throw new ValidationError('reason', 'must be at most 256 characters');
    const record = await stores.interactions.get(agent.tenantId, parsed.interactionId);
    if (!record) throw new NotFoundError('offer', request.offerId);
    if (
      record.state !== S.INTERACTION_STATE_OFFERED ||
      record.offeredAgentId !== agent.agentId ||
      offerVersionOf(record) !== parsed.version
    )
      return;
    const next = await core
      .applyChange(
        record,
        { type: 'decline', at: core.clock(), agentId: agent.agentId },
        { note: request.reason, actorName: agent.agentName },
      )
      .catch(() => undefined);
    if (next) {
      await core.releaseSlot(agent.tenantId, agent.agentId, record.interactionId);
      core.notifyWork(agent.tenantId);
    }
  }

  return { accept, decline };
}
