import { InteractionState } from '@mailroute/contracts';
import { ConflictError, FailedPreconditionError, NotFoundError, ValidationError } from '@mailroute/platform';
import type { InteractionRecord } from '@mailroute/persistence';
import { checkDirectOffer, defaultQueuePolicy } from '@mailroute/routing-engine';
import { toInteraction } from '../../routing/interaction-mapping';
import type { AdminContext, AdminHandlers } from './admin-context';

const S = InteractionState;
const changedMeanwhile = 'the interaction changed meanwhile; read it again';

/** A supervisor's changes to an interaction: assign (or offer) to an agent, transfer, complete. */
export function createInteractionSupervisionHandlers(
  admin: AdminContext,
): Pick<AdminHandlers, 'assignInteraction' | 'transferInteraction' | 'completeInteraction'> {
  const { core, config, interaction, checkVersion, supervisor } = admin;

  const assignInteraction: AdminHandlers['assignInteraction'] = async (request, context) => {
    if (!request.agentId) throw new ValidationError('agent_id', 'is required');
    if (request.note.length > 4096) throw new ValidationError('note', 'must be at most 4096 characters');
    const record = await interaction(context, request.interactionId);
    checkVersion(record, request.expectedVersion);
    const view = (await core.agentViews(context.tenantId)).get(request.agentId);
    if (!view) throw new NotFoundError('agent', request.agentId);
    const check = checkDirectOffer(view.snapshot);
    if (!check.ok) throw new FailedPreconditionError(check.message);
    const claim = await core.claimSlot(
      context.tenantId,
      request.agentId,
      view.snapshot.capacity,
      record.interactionId,
      request.offer ? 'offer' : 'assigned',
    );
    if (!claim) throw new FailedPreconditionError(`agent ${request.agentId} has no free capacity`);
    const previousHolder = record.state === S.INTERACTION_STATE_OFFERED ? record.offeredAgentId : record.agentId;
    const by = supervisor(context);
    const queues = await core.queuePolicies(context.tenantId);
    const timeout = queues.get(record.queueId ?? '')?.policy.offerTimeoutMs ?? defaultQueuePolicy.offerTimeoutMs;
    let next: InteractionRecord | undefined;
    try {
      next = request.offer
        ? await core.applyChange(
            record,
            { type: 'transfer-to-agent', at: core.clock(), agentId: request.agentId, expiresAt: core.clock() + timeout, by },
            { note: request.note, patch: { offerReason: 4, offerNote: request.note } },
          )
        : await core.applyChange(
            record,
            { type: 'assign', at: core.clock(), agentId: request.agentId, by },
            { note: request.note },
          );
    } catch (error) {
      await core.undoClaim(claim);
      throw error;
    }
    if (!next) {
      await core.undoClaim(claim);
      throw new ConflictError(changedMeanwhile);
    }
    if (previousHolder && previousHolder !== request.agentId)
      await core.releaseSlot(context.tenantId, previousHolder, record.interactionId);
    if (!request.offer) await core.markSlotAssigned(context.tenantId, request.agentId, record.interactionId);
    core.notifyWork(context.tenantId);
    return { interaction: toInteraction(next) };
  };

  return {
    assignInteraction,
    transferInteraction: async (request, context) => {
      const target = request.target?.target;
      if (!target) throw new ValidationError('target', 'is required');
      const record = await interaction(context, request.interactionId);
      checkVersion(record, request.expectedVersion);
      if (target.$case === 'agentId') {
        const result = await assignInteraction(
          {
            interactionId: request.interactionId,
            agentId: target.value,
            offer: true,
            note: request.note,
            expectedVersion: request.expectedVersion,
          },
          context,
        );
        return { interaction: result.interaction };
      }
      if (!(await config.get(context.tenantId, 'queue', target.value))) throw new NotFoundError('queue', target.value);
      const previousHolder = record.state === S.INTERACTION_STATE_OFFERED ? record.offeredAgentId : record.agentId;
      const next = await core.applyChange(
        record,
        { type: 'transfer-to-queue', at: core.clock(), queueId: target.value, by: supervisor(context) },
        { note: request.note },
      );
      if (!next) throw new ConflictError(changedMeanwhile);
      await core.releaseSlot(context.tenantId, previousHolder, record.interactionId);
      core.notifyWork(context.tenantId);
      return { interaction: toInteraction(next) };
    },
    completeInteraction: async (request, context) => {
      const record = await interaction(context, request.interactionId);
      checkVersion(record, request.expectedVersion);
      const previousHolder = record.state === S.INTERACTION_STATE_OFFERED ? record.offeredAgentId : record.agentId;
      const next = await core.applyChange(
        record,
        { type: 'complete', at: core.clock(), by: supervisor(context) },
        { note: request.note, patch: { dispositionCode: request.dispositionCode } },
      );
      if (!next) throw new ConflictError(changedMeanwhile);
      await core.releaseSlot(context.tenantId, previousHolder, record.interactionId);
      core.notifyWork(context.tenantId);
      return { interaction: toInteraction(next) };
    },
  };
}
