import { InteractionState } from '@mailroute/contracts';
import type { InteractionRecord } from '@mailroute/persistence';
import type { ChangeIndexes } from '../changes/change-indexes';
import { slotAgentOf, tenantPrefix } from '../store/router-keys';
import type { RouterStores } from '../store/router-stores';

const S = InteractionState;

/** Whether `record` holds a capacity slot of `agentId` (offered to it, or assigned / replied by it). */
function holdsSlot(record: InteractionRecord | undefined, agentId: string): boolean {
  return (
    record !== undefined &&
    ((record.state === S.INTERACTION_STATE_OFFERED && record.offeredAgentId === agentId) ||
      ((record.state === S.INTERACTION_STATE_ASSIGNED || record.state === S.INTERACTION_STATE_REPLIED) &&
        record.agentId === agentId))
  );
}

/**
 * Frees slots whose holder no longer holds them (a writer crashed between claim and commit), and
 * gives an offer the offer sweep has long not returned its offer index entry back: a replica killed
 * with an index delete queued at FerretDB can have it applied after the next offer's entry was
 * written (a dead client's queued write still lands, after writes acknowledged since), and the
 * sweep, which reads only that index, would never time the offer out.
 */
export function createSlotReconcileSweep(deps: {
  stores: Pick<RouterStores, 'slots' | 'interactions'>;
  clock: () => number;
  indexes: Pick<ChangeIndexes, 'maintain'>;
  notifyWork: (tenantId: string) => void;
}) {
  const { stores } = deps;
  /** Frees the tenant's slots older than `olderThanMs` that no interaction holds; returns how many. */
  return async function reconcileSlots(tenantId: string, olderThanMs = 30_000): Promise<number> {
    const now = deps.clock();
    let freed = 0;
    for (const slot of await stores.slots.list({ prefix: tenantPrefix(tenantId), limit: 1_000_000 })) {
      if (now - slot.document.at < olderThanMs) continue;
      const agentId = slotAgentOf(tenantId, slot.key);
      const record = await stores.interactions.get(tenantId, slot.document.interactionId);
      if (holdsSlot(record, agentId)) {
        if (record?.state === S.INTERACTION_STATE_OFFERED && now - (record.offerExpiresAt ?? now) >= olderThanMs) {
          // Overdue by the sweep's measure: confirmed against the newest version, its indexes are written again.
          const current = await stores.interactions.refresh(tenantId, record.interactionId);
          if (current) await deps.indexes.maintain(current);
        }
        continue;
      }
      // Confirm against the newest committed version before freeing capacity.
      if (!holdsSlot(await stores.interactions.refresh(tenantId, slot.document.interactionId), agentId)) {
        await stores.slots.delete(slot.key);
        freed += 1;
      }
    }
    if (freed > 0) deps.notifyWork(tenantId);
    return freed;
  };
}
