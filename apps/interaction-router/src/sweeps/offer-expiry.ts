import { InteractionState } from '@mailroute/contracts';
import type { CapacitySlots } from '../capacity/capacity-slots';
import type { ChangeCommits } from '../changes/change-commit';
import type { ChangeIndexes } from '../changes/change-indexes';
import { parseInteractionKey } from '../store/router-keys';
import type { RouterStores } from '../store/router-stores';

const S = InteractionState;

/** Returns lapsed offers to their queues (any replica may do it; the version claim picks one). */
export function createOfferExpirySweep(deps: {
  stores: Pick<RouterStores, 'offers' | 'interactions'>;
  clock: () => number;
  indexes: ChangeIndexes;
  commits: Pick<ChangeCommits, 'applyChange'>;
  slots: Pick<CapacitySlots, 'releaseSlot'>;
  notifyWork: (tenantId: string) => void;
}) {
  const { stores, indexes } = deps;
  /** Sweeps at most `limit` lapsed offers; returns the tenants whose offers went back to a queue. */
  return async function sweepExpiredOffers(limit = 500): Promise<Set<string>> {
    const now = deps.clock();
    const tenants = new Set<string>();
    const lapsed = (await stores.offers.list({ prefix: '', limit: 100_000 }))
      .filter((o) => o.document.expiresAt <= now)
      .slice(0, limit);
    for (const { key } of lapsed) {
      const { tenantId, interactionId } = parseInteractionKey(key);
      let record = await stores.interactions.get(tenantId, interactionId);
      if (!record || record.state !== S.INTERACTION_STATE_OFFERED)
        record = await stores.interactions.refresh(tenantId, interactionId);
      if (!record || record.state !== S.INTERACTION_STATE_OFFERED) {
        if (record) await indexes.maintain(record);
        else await stores.offers.delete(key);
        continue;
      }
      const next = await deps.commits.applyChange(record, { type: 'offer-timeout', at: now }).catch(() => undefined);
      if (next) {
        await deps.slots.releaseSlot(record.tenantId, record.offeredAgentId, record.interactionId);
        tenants.add(record.tenantId);
      }
    }
    for (const tenantId of tenants) deps.notifyWork(tenantId);
    return tenants;
  };
}
