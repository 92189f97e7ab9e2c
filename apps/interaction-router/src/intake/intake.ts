import { InboundMessage, InteractionState, StateChangeReason, type InboundEmail } from '@mailroute/contracts';
import { FailedPreconditionError, ValidationError } from '@mailroute/platform';
import type { InteractionHistoryRecord, InteractionRecord } from '@mailroute/persistence';
import { evaluateRules, serviceLevelDueAt } from '@mailroute/routing-engine';
import type { ChangeCommits } from '../changes/change-commit';
import type { RereadOnConflict } from '../changes/reread-on-conflict';
import type { ConfigSnapshots } from '../read-models/config-snapshots';
import { mergeAutomation, openStates, receivedRecord, toActorRecord } from '../routing/interaction-mapping';
import { conversationKey, inboundMessageKey } from '../store/router-keys';
import type { RouterStores } from '../store/router-stores';
import type { Acknowledge } from './acknowledgement';
import type { InteractionReferences } from './interaction-references';

const S = InteractionState;

/** The inbound message of an event as stored JSON. */
function inboundMessageJson(event: InboundEmail): unknown {
  return event.message ? InboundMessage.toJSON(event.message) : {};
}

/** Version 1 of an interaction: RECEIVED from the customer. */
function receivedEntry(created: InteractionRecord, now: number): InteractionHistoryRecord {
  return {
    tenantId: created.tenantId,
    interactionId: created.interactionId,
    version: 1,
    occurredAt: now,
    previousState: S.INTERACTION_STATE_UNSPECIFIED,
    state: S.INTERACTION_STATE_RECEIVED,
    reason: StateChangeReason.STATE_CHANGE_REASON_RECEIVED,
    actor: toActorRecord({ kind: 'customer' }),
    queueId: '',
    agentId: '',
    note: '',
    interaction: created,
  };
}

/**
 * Intake: one InboundEmail becomes an interaction (version 1, RECEIVED, with its message in the
 * thread), joins the open interaction of its conversation (MERGED into it), or is routed by the
 * tenant's rules to a queue (QUEUED), discarded, or left UNROUTED. Idempotent: every step is a
 * claimed version of the interaction, so a redelivered event changes nothing.
 */
export function createIntake(deps: {
  stores: Pick<RouterStores, 'interactions' | 'messages' | 'conversations'>;
  clock: () => number;
  commits: Pick<ChangeCommits, 'commitEntry' | 'applyChange'>;
  rereadOnConflict: RereadOnConflict;
  snapshots: Pick<ConfigSnapshots, 'queuePolicies' | 'ruleSet'>;
  notifyWork: (tenantId: string) => void;
  /** Automatic acknowledgement of mail routed to a queue (recorded before the route is committed, so a redelivery completes it). */
  acknowledge: Acknowledge;
  references: Pick<InteractionReferences, 'referredInteractionId'>;
}) {
  const { stores, clock, commits, rereadOnConflict, snapshots } = deps;
  const { applyChange } = commits;

  return async function intake(event: InboundEmail): Promise<void> {
    if (!event.tenantId) throw new ValidationError('tenant_id', 'is required');
    if (!event.interactionId) throw new ValidationError('interaction_id', 'is required');
    if (!event.mailboxId) throw new ValidationError('mailbox_id', 'is required');
    const now = clock();
    const { tenantId, interactionId } = event;
    let record: InteractionRecord | undefined;
    {
      // Version 1 is claimed by an insert; only a redelivery (conflict) reads the stored one.
      const created = receivedRecord(event, now);
      const fresh = await commits.commitEntry(receivedEntry(created, now));
      await stores.messages.insert(
        inboundMessageKey(tenantId, interactionId, created.receivedAt, created.latestInboundGraphMessageId),
        { kind: 'inbound', json: inboundMessageJson(event), at: created.receivedAt },
      );
      record = fresh ? created : await stores.interactions.get(tenantId, interactionId);
      if (!record)
        throw new FailedPreconditionError(`interaction ${interactionId} vanished while being stored`, { retryable: true });
    }
    if (record.state !== S.INTERACTION_STATE_RECEIVED) return;

    // Threading: a message of a conversation with an open interaction joins it; so does one whose
    // subject quotes the reference of an open interaction (by the rule in interaction-references.ts).
    const conversation = record.conversationId
      ? await stores.conversations.get(conversationKey(tenantId, record.conversationId))
      : undefined;
    const openCandidate = async (candidateId: string | undefined) => {
      const candidate =
        candidateId && candidateId !== interactionId ? await stores.interactions.get(tenantId, candidateId) : undefined;
      return candidate && openStates.has(candidate.state) && candidate.state !== S.INTERACTION_STATE_RECEIVED
        ? candidate
        : undefined;
    };
    {
      const open =
        (await openCandidate(conversation?.openInteractionId)) ??
        (await openCandidate(await deps.references.referredInteractionId(record)));
      if (open) {
        const joined = await stores.messages.insert(
          inboundMessageKey(tenantId, open.interactionId, record.receivedAt, record.latestInboundGraphMessageId),
          { kind: 'inbound', json: inboundMessageJson(event), at: record.receivedAt },
        );
        if (joined) {
          const joining = record;
          await rereadOnConflict(tenantId, open.interactionId, async (target) => {
            const next = await applyChange(
              target,
              { type: 'customer-reply', at: now },
              {
                patch: {
                  inboundMessageCount: target.inboundMessageCount + 1,
                  latestInboundGraphMessageId: joining.latestInboundGraphMessageId || target.latestInboundGraphMessageId,
                  preview: joining.preview,
                  importance: Math.max(target.importance, joining.importance),
                  hasAttachments: target.hasAttachments || joining.hasAttachments,
                  automation: mergeAutomation(target.automation, joining.automation),
                  latestInboundAutomation: joining.latestInboundAutomation ?? joining.automation,
                },
              },
            );
            return next ?? 'retry';
          });
        }
        await rereadOnConflict(tenantId, interactionId, async (current) => {
          if (current.state !== S.INTERACTION_STATE_RECEIVED) return current;
          return (await applyChange(current, { type: 'merge', at: now, intoInteractionId: open.interactionId })) ?? 'retry';
        });
        return;
      }
    }
    const previous = conversation?.lastClosed;
    if (previous && previous.interactionId !== interactionId) {
      record = {
        ...record,
        previousInteractionId: previous.interactionId,
        affinity: { agentId: previous.agentId, previousClosedAt: previous.closedAt },
      };
    }

    const queues = await snapshots.queuePolicies(tenantId);
    const evaluation = evaluateRules(
      await snapshots.ruleSet(tenantId),
      { mailboxId: event.mailboxId, message: event.message ?? InboundMessage.fromPartial({}) },
      {
        defaultQueueId: event.defaultQueueId && queues.has(event.defaultQueueId) ? event.defaultQueueId : undefined,
        queueSkills: (queueId) => queues.get(queueId)?.queue.requiredSkills,
      },
    );
    const outcome = evaluation.outcome;
    const base = record;
    const routedTo = outcome.kind === 'route' ? queues.get(outcome.queueId) : undefined;
    const acknowledged = routedTo ? await deps.acknowledge(record, routedTo.queue, routedTo.policy, now) : undefined;
    const reference = acknowledged?.reference ? { reference: acknowledged.reference } : {};
    await rereadOnConflict(
      tenantId,
      interactionId,
      async (current) => {
        if (current.state !== S.INTERACTION_STATE_RECEIVED) return current;
        const carried = { previousInteractionId: base.previousInteractionId, affinity: base.affinity };
        const target = outcome.kind === 'route' ? queues.get(outcome.queueId) : undefined;
        if (outcome.kind === 'route' && target) {
          const policy = target.policy;
          return (
            (await applyChange(
              current,
              {
                type: 'route',
                at: now,
                queueId: outcome.queueId,
                priority: outcome.priority,
                requiredSkills: outcome.requiredSkills,
              },
              {
                patch: {
                  ...carried,
                  ...reference,
                  tags: [...outcome.tags],
                  matchedRuleId: outcome.ruleId ?? '',
                  serviceLevelDueAt: serviceLevelDueAt(policy, now),
                },
                // Read above (threading): the commit opens the conversation without reading it again.
                conversation: record.conversationId ? (conversation ?? null) : undefined,
              },
            )) ?? 'retry'
          );
        }
        if (outcome.kind === 'discard') {
          return (
            (await applyChange(
              current,
              { type: 'discard', at: now, reason: outcome.reason },
              { patch: { ...carried, matchedRuleId: outcome.ruleId }, note: outcome.reason },
            )) ?? 'retry'
          );
        }
        return (await applyChange(current, { type: 'no-route', at: now }, { patch: carried })) ?? 'retry';
      },
      record,
    );
    deps.notifyWork(tenantId);
  };
}
