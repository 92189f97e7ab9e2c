import { InteractionState, OfferReason } from '@mailroute/contracts';
import type { Logger } from '@mailroute/platform';
import { type InteractionRecord, withStoreStep } from '@mailroute/persistence';
import { planAssignments, type InteractionEvent, type WaitingInteraction } from '@mailroute/routing-engine';
import type { CapacitySlots } from '../capacity/capacity-slots';
import type { ChangeCommits } from '../changes/change-commit';
import type { ChangeIndexes } from '../changes/change-indexes';
import type { AgentView } from '../read-models/agent-views';
import type { ConfigSnapshots } from '../read-models/config-snapshots';
import { interactionKey, keyAfterTenant, roundRobinCursorKey, tenantPrefix } from '../store/router-keys';
import type { RouterStores } from '../store/router-stores';
import { forEachLimit } from './for-each-limit';
import type { WaitingView } from './waiting-view';

const S = InteractionState;

/**
 * Planning: one pass over a tenant's waiting interactions, agents and queues (the engine's
 * planAssignments decides), then escalations (relaxed skills, overflow) and offers are committed,
 * each offer capacity-slot first, at most `commitConcurrency` at a time.
 */
export function createPlanner(deps: {
  stores: Pick<RouterStores, 'interactions' | 'waiting' | 'cursors'>;
  logger: Logger;
  clock: () => number;
  snapshots: Pick<ConfigSnapshots, 'queuePolicies'>;
  agentViews: (tenantId: string) => Promise<Map<string, AgentView>>;
  waitingView: Pick<WaitingView, 'entries'>;
  indexes: ChangeIndexes;
  commits: Pick<ChangeCommits, 'applyChange'>;
  slots: Pick<CapacitySlots, 'claimSlot' | 'undoClaim'>;
  /** How many of a pass's offers (and escalations) are committed at once. */
  commitConcurrency: number;
}) {
  const { stores, logger, clock, commits, slots } = deps;

  /** One planning pass for a tenant: escalations, then offers claimed slot-first. Returns when to plan again. */
  return async function planTenant(tenantId: string): Promise<{ offers: number; nextWakeAt: number | undefined }> {
    const now = clock();
    const [queues, views, waitingRecords, cursorRows] = await Promise.all([
      deps.snapshots.queuePolicies(tenantId),
      deps.agentViews(tenantId),
      deps.waitingView.entries(tenantId),
      stores.cursors.list({ prefix: tenantPrefix(tenantId), limit: 10_000 }),
    ]);
    if (waitingRecords.length === 0) return { offers: 0, nextWakeAt: undefined };
    const waiting: WaitingInteraction[] = waitingRecords.map(([interactionId, document]) => ({ ...document, interactionId }));
    const versions = new Map(waitingRecords.map(([interactionId, document]) => [interactionId, document.version]));
    const records = new Map<string, InteractionRecord>();
    /** The current record, when the index entry is current too; a stale entry is repaired and skipped. */
    async function current(interactionId: string): Promise<InteractionRecord | undefined> {
      const known = records.get(interactionId);
      if (known) return known;
      let record = await stores.interactions.get(tenantId, interactionId);
      if (!record || record.version !== versions.get(interactionId) || record.state !== S.INTERACTION_STATE_QUEUED) {
        // Repair from the newest committed version, not a document a slow writer may have left behind.
        record = await stores.interactions.refresh(tenantId, interactionId);
        if (record) await deps.indexes.maintain(record);
        else await stores.waiting.delete(interactionKey(tenantId, interactionId));
        return undefined;
      }
      records.set(interactionId, record);
      return record;
    }
    const plan = planAssignments({
      now,
      queues: [...queues.values()].map((q) => q.policy),
      agents: [...views.values()].map((v) => v.snapshot),
      waiting,
      roundRobinCursors: Object.fromEntries(cursorRows.map((c) => [keyAfterTenant(tenantId, c.key), c.document.agentId])),
    });
    const parallel = deps.commitConcurrency;
    await forEachLimit(plan.escalations, parallel, async (decision) => {
      const record = await current(decision.interactionId);
      if (!record) return;
      const event: InteractionEvent =
        decision.kind === 'relax-skills'
          ? {
              type: 'relax-skills',
              at: now,
              requiredSkills: decision.requiredSkills,
              escalationStepsApplied: decision.escalationStepsApplied,
            }
          : {
              type: 'overflow',
              at: now,
              queueId: decision.toQueueId,
              resetWaitTime: decision.queuedAt !== record.queuedAt,
              requiredSkills: decision.requiredSkills,
            };
      const next = await commits.applyChange(record, event).catch(() => undefined);
      if (next) {
        records.set(next.interactionId, next);
        versions.set(next.interactionId, next.version);
      } else versions.delete(decision.interactionId);
    });
    let made = 0;
    // Offers concern distinct interactions; claims of one agent's slots may race each other and
    // simply take the next free slot (or fail when the agent is full).
    await forEachLimit(plan.offers, parallel, (offer) => withStoreStep('offer', () => makeOffer(offer)));
    async function makeOffer(offer: (typeof plan.offers)[number]): Promise<void> {
      const view = views.get(offer.agentId);
      const record = view ? await current(offer.interactionId) : undefined;
      if (!record || !view) return;
      const claim = await slots.claimSlot(tenantId, offer.agentId, view.snapshot.capacity, offer.interactionId, 'offer');
      if (!claim?.fresh) return;
      let next: InteractionRecord | undefined;
      try {
        next = await commits.applyChange(
          record,
          {
            type: 'offer',
            at: now,
            agentId: offer.agentId,
            expiresAt: offer.expiresAt,
            byAffinity: offer.reason === 'affinity',
            forgetPasses: offer.passesForgotten === true,
          },
          {
            patch: {
              offerReason: offer.reason === 'affinity' ? OfferReason.OFFER_REASON_AFFINITY : OfferReason.OFFER_REASON_ROUTED,
              offerNote: '',
            },
          },
        );
      } catch (error) {
        logger.debug({ err: error, interactionId: offer.interactionId }, 'router: planned offer refused');
      }
      if (next) made += 1;
      else await slots.undoClaim(claim);
    }
    await Promise.all(
      Object.entries(plan.roundRobinCursors).map(([queueId, agentId]) =>
        stores.cursors.put(roundRobinCursorKey(tenantId, queueId), { agentId }),
      ),
    );
    return { offers: made, nextWakeAt: plan.nextWakeAt };
  };
}
