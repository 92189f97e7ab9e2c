import {
  AgentPresence,
  InteractionState,
  type CompleteRequest,
  type Interaction,
  type TransferRequest,
} from '@mailroute/contracts';
import { FailedPreconditionError, NotFoundError, ValidationError } from '@mailroute/platform';
import type { InteractionRecord } from '@mailroute/persistence';
import { defaultQueuePolicy } from '@mailroute/routing-engine';
import { toInteraction } from '../routing/interaction-mapping';
import type { RouterCore } from '../routing/router-core';
import type { RouterStores } from '../store/router-stores';
import { findVisible, heldBy, type DesktopAgent } from './agent-access';

const S = InteractionState;

/**
 * What an agent does with an interaction it holds. Complete: COMPLETED with the disposition code, the
 * agent's capacity slot freed (completing again answers the same interaction). Transfer: to a queue
 * (waiting there again) or to an agent (an offer to them, after claiming one of their capacity slots,
 * lapsing after the interaction's queue's offer timeout); either way the agent's own slot is freed.
 */
export function createHeldInteractions(deps: { core: RouterCore; stores: Pick<RouterStores, 'interactions'> }) {
  const { core, stores } = deps;

  async function complete(agent: DesktopAgent, request: CompleteRequest): Promise<Interaction> {
    if (request.dispositionCode.length > 64) throw new ValidationError('disposition_code', 'must be at most 64 characters');
    if (request.note.length > 4096) throw new ValidationError('note', 'must be at most 4096 characters');
    // The record just read is the first to decide on (another writer's change makes the commit re-read).
    const visible = await findVisible(
      stores,
      agent,
      request.interactionId,
      (r) => heldBy(r, agent.agentId) || (r.state === S.INTERACTION_STATE_COMPLETED && r.agentId === agent.agentId),
    );
    const done = await core.rereadOnConflict(
      agent.tenantId,
      request.interactionId,
      async (record) => {
        if (record.state === S.INTERACTION_STATE_COMPLETED && record.agentId === agent.agentId) return record;
        if (!heldBy(record, agent.agentId)) throw new NotFoundError('interaction', request.interactionId);
        return (
          (await core.applyChange(
            record,
            { type: 'complete', at: core.clock(), by: { kind: 'agent', agentId: agent.agentId } },
            {
              note: request.note,
              actorName: agent.agentName,
              patch: { dispositionCode: request.dispositionCode },
            },
          )) ?? 'retry'
        );
      },
      visible,
    );
    await core.releaseSlot(agent.tenantId, agent.agentId, request.interactionId);
    core.notifyWork(agent.tenantId);
    if (!done) throw new NotFoundError('interaction', request.interactionId);
    return toInteraction(done);
  }

  async function transfer(agent: DesktopAgent, request: TransferRequest): Promise<Interaction> {
    const target = request.target?.target;
    if (!target) throw new ValidationError('target', 'is required');
    if (request.note.length > 4096) throw new ValidationError('note', 'must be at most 4096 characters');
    const record = await findVisible(stores, agent, request.interactionId, (r) => heldBy(r, agent.agentId));
    if (!heldBy(record, agent.agentId)) throw new NotFoundError('interaction', request.interactionId);
    const by = { kind: 'agent' as const, agentId: agent.agentId };
    let next: InteractionRecord | undefined;
    if (target.$case === 'queueId') {
      if (!(await core.config.get(agent.tenantId, 'queue', target.value))) throw new NotFoundError('queue', target.value);
      next = await core.applyChange(
        record,
        { type: 'transfer-to-queue', at: core.clock(), queueId: target.value, by },
        { note: request.note, actorName: agent.agentName },
      );
    } else {
      const view = (await core.agentViews(agent.tenantId)).get(target.value);
      if (!view) throw new NotFoundError('agent', target.value);
      if (!view.snapshot.enabled || view.snapshot.presence === AgentPresence.AGENT_PRESENCE_OFFLINE)
        throw new FailedPreconditionError(`agent ${target.value} cannot take it now`);
      const claim = await core.claimSlot(agent.tenantId, target.value, view.snapshot.capacity, record.interactionId, 'offer');
      if (!claim) throw new FailedPreconditionError(`agent ${target.value} has no free capacity`);
      const queues = await core.queuePolicies(agent.tenantId);
      const timeout = queues.get(record.queueId ?? '')?.policy.offerTimeoutMs ?? defaultQueuePolicy.offerTimeoutMs;
      next = await core
        .applyChange(
          record,
          { type: 'transfer-to-agent', at: core.clock(), agentId: target.value, expiresAt: core.clock() + timeout, by },
          { note: request.note, actorName: agent.agentName, patch: { offerReason: 3, offerNote: request.note } },
        )
        .catch(async (error: unknown) => {
          await core.undoClaim(claim);
          throw error;
        });
      if (!next) await core.undoClaim(claim);
    }
    if (!next) throw new FailedPreconditionError('the interaction changed meanwhile; try again', { retryable: true });
    await core.releaseSlot(agent.tenantId, agent.agentId, record.interactionId);
    core.notifyWork(agent.tenantId);
    return toInteraction(next);
  }

  return { complete, transfer };
}
