import type { InteractionRecord } from '@mailroute/persistence';
import { agentKey, slotKey, slotNumberOf, slotPrefix } from '../store/router-keys';
import type { RouterStores } from '../store/router-stores';

/** A claimed slot; `fresh: false` when the interaction already held it (another writer's claim). */
export interface SlotClaim {
  key: string;
  fresh: boolean;
}

/** Most slots read per agent (capacity is at most 100). */
const slotsPerAgent = 1000;

/**
 * Agents' capacity as slots `<tenant>/<agent>/<slot>`, slot < capacity: a slot inserted is a slot
 * claimed, so two replicas can never give an agent more interactions than its capacity.
 */
export function createCapacitySlots(deps: {
  stores: Pick<RouterStores, 'slots' | 'activity' | 'interactions'>;
  clock: () => number;
}) {
  const { stores, clock } = deps;
  const held = (tenantId: string, agentId: string) =>
    stores.slots.list({ prefix: slotPrefix(tenantId, agentId), limit: slotsPerAgent });

  /**
   * Claims a free slot `< capacity` of the agent for `interactionId`. Returns the slot key, with
   * `fresh: false` when the interaction already held one (another writer's claim, which the caller
   * must not release), or undefined when the agent is full.
   */
  async function claimSlot(
    tenantId: string,
    agentId: string,
    capacity: number,
    interactionId: string,
    kind: 'offer' | 'assigned',
  ): Promise<SlotClaim | undefined> {
    const slots = await held(tenantId, agentId);
    const existing = slots.find((slot) => slot.document.interactionId === interactionId);
    if (existing) return { key: existing.key, fresh: false };
    if (slots.length >= capacity) return undefined;
    const used = new Set(slots.map((slot) => slotNumberOf(slot.key)));
    for (let slot = 0; slot < capacity; slot += 1) {
      if (used.has(slot)) continue;
      const key = slotKey(tenantId, agentId, slot);
      if (await stores.slots.insert(key, { interactionId, kind, at: clock() })) return { key, fresh: true };
    }
    return undefined;
  }

  /** Gives back a claim made by `claimSlot` when the change it was for did not commit. */
  async function undoClaim(claim: SlotClaim | undefined): Promise<void> {
    if (claim?.fresh) await stores.slots.delete(claim.key);
  }

  /** Frees the agent's slots held by `interactionId` (after the interaction left the agent). */
  async function releaseSlot(tenantId: string, agentId: string | undefined, interactionId: string): Promise<void> {
    if (!agentId) return;
    for (const slot of await held(tenantId, agentId)) {
      if (slot.document.interactionId !== interactionId) continue;
      await stores.slots.delete(slot.key);
      // Work that ended restarts the agent's idle time (longest-idle routing ranks by it).
      if (slot.document.kind === 'assigned') {
        await stores.activity.put(agentKey(tenantId, agentId), { lastEndedAt: clock(), lastAssignedAt: slot.document.at });
      }
    }
  }

  /** Turns the agent's offer slot of `interactionId` into an assigned one (the offer was accepted). */
  async function markSlotAssigned(tenantId: string, agentId: string, interactionId: string): Promise<void> {
    for (const slot of await held(tenantId, agentId)) {
      if (slot.document.interactionId === interactionId)
        await stores.slots.put(slot.key, { ...slot.document, kind: 'assigned', at: clock() });
    }
  }

  /** Interactions an agent holds or is offered, from its capacity slots (an `_id` range, not a scan of interactions). */
  async function agentInteractions(tenantId: string, agentId: string): Promise<InteractionRecord[]> {
    const slots = await held(tenantId, agentId);
    const records = await Promise.all(slots.map((slot) => stores.interactions.get(tenantId, slot.document.interactionId)));
    return records.filter(
      (r): r is InteractionRecord => r !== undefined && (r.offeredAgentId === agentId || r.agentId === agentId),
    );
  }

  return { claimSlot, undoClaim, releaseSlot, markSlotAssigned, agentInteractions };
}

export type CapacitySlots = ReturnType<typeof createCapacitySlots>;
