import { ActorKind, AgentPresence, InteractionState, type Actor, type AgentStatus } from '@mailroute/contracts';
import { NotFoundError, PermissionDeniedError } from '@mailroute/platform';
import type { RouterCore } from '../routing/router-core';
import type { PresenceDocument, RouterStores } from '../store/router-stores';
import type { DesktopHub, DesktopSession } from './desktop-hub';
import { agentKey } from '../store/router-keys';

/** The stored presence, with who set it (older records have no `changedBy`: told as SYSTEM). */
export interface PresenceRecord extends PresenceDocument {
  changedBy?: { kind: number; id: string; displayName: string } | undefined;
  /** Set by DeleteAgent: planners see the agent OFFLINE at once, and its stream ends with PERMISSION_DENIED. */
  agentDeleted?: boolean | undefined;
}

const systemActor: Actor = { kind: ActorKind.ACTOR_KIND_SYSTEM, id: '', displayName: '' };

/**
 * Agent presence across replicas. A change is stored (the planner of any replica reads it on its
 * next pass, so an AWAY agent gets no new offer after the change returns), the agent's pending
 * offers are revoked when it goes AWAY or OFFLINE, and the agent's desktop stream is told: at once
 * when it is connected to this replica, otherwise by the stream's own replica, which compares the
 * stored presence with what it last told the stream on every session refresh (`poll`, every
 * sessionRefreshMs, default 5 s). OFFLINE ends the stream after telling it.
 */
export function createPresence(deps: { core: RouterCore; stores: RouterStores; hub?: DesktopHub }) {
  const { core, stores } = deps;
  const key = agentKey;

  async function status(tenantId: string, agentId: string): Promise<AgentStatus> {
    let view = (await core.agentViews(tenantId)).get(agentId);
    if (!view) {
      // Created a moment ago through another replica: this replica's configuration cache (≤ 1 s) may not have it yet.
      core.invalidateRules(tenantId);
      view = (await core.agentViews(tenantId)).get(agentId);
    }
    if (!view) throw new NotFoundError('agent', agentId);
    return {
      agentId,
      displayName: view.agent.displayName,
      presence: view.snapshot.presence,
      presenceReason: view.presenceReason,
      presenceSince: new Date(view.presenceSince),
      connected: view.connected,
      capacity: view.snapshot.capacity,
      activeInteractions: view.snapshot.activeInteractions,
      pendingOffers: view.snapshot.pendingOffers,
      idleSince: view.snapshot.idleSince === undefined ? undefined : new Date(view.snapshot.idleSince),
      lastAssignedAt: view.snapshot.lastAssignedAt === undefined ? undefined : new Date(view.snapshot.lastAssignedAt),
      queueIds: [...view.agent.queueIds],
    };
  }

  /**
   * Tells `session` about `record` unless it was told already (check and mark in one synchronous
   * step, so the local push and a concurrent poll never both send it).
   */
  function tell(session: DesktopSession, record: PresenceRecord, current: AgentStatus): void {
    const seen = session.presenceSeen;
    // Already told, or older than what was told (a poll that read before a local change).
    if (seen && (record.since < seen.since || (seen.since === record.since && seen.presence === record.presence))) return;
    session.presenceSeen = { since: record.since, presence: record.presence };
    const event = { $case: 'presenceChanged' as const, value: { status: current, changedBy: record.changedBy ?? systemActor } };
    if (record.presence === AgentPresence.AGENT_PRESENCE_OFFLINE) session.close(event);
    else session.push(event);
  }

  /** Returns the agent's pending offers to their queues (it went AWAY or OFFLINE, or was deleted). */
  async function revokeOffers(tenantId: string, agentId: string): Promise<void> {
    for (const interaction of await core.agentInteractions(tenantId, agentId)) {
      if (interaction.state !== InteractionState.INTERACTION_STATE_OFFERED || interaction.offeredAgentId !== agentId) continue;
      const next = await core.applyChange(interaction, { type: 'revoke-offer', at: core.clock() }).catch(() => undefined);
      if (next) await core.releaseSlot(tenantId, agentId, interaction.interactionId);
    }
  }

  return {
    status,
    /** Sets an agent's presence as `by` (the agent itself or a supervisor) and returns its status after the change. */
    async change(tenantId: string, agentId: string, presence: AgentPresence, reason: string, by: Actor): Promise<AgentStatus> {
      const record: PresenceRecord = {
        presence,
        reason,
        since: core.clock(),
        changedBy: { kind: by.kind, id: by.id, displayName: by.displayName },
      };
      await stores.presence.put(key(tenantId, agentId), record);
      if (presence === AgentPresence.AGENT_PRESENCE_AWAY || presence === AgentPresence.AGENT_PRESENCE_OFFLINE)
        await revokeOffers(tenantId, agentId);
      core.notifyWork(tenantId);
      const current = await status(tenantId, agentId);
      const session = deps.hub?.get(tenantId, agentId);
      if (session) tell(session, record, current);
      return current;
    },
    /**
     * After DeleteAgent: OFFLINE at once for every replica's planner (their agent lists are cached
     * briefly), pending offers back to their queues, and the stream told to end on its next poll.
     */
    async retire(tenantId: string, agentId: string, by: Actor): Promise<void> {
      const record: PresenceRecord = {
        presence: AgentPresence.AGENT_PRESENCE_OFFLINE,
        reason: 'agent deleted',
        since: core.clock(),
        changedBy: { kind: by.kind, id: by.id, displayName: by.displayName },
        agentDeleted: true,
      };
      await stores.presence.put(key(tenantId, agentId), record);
      await revokeOffers(tenantId, agentId);
      core.notifyWork(tenantId);
    },
    /** Marks what a stream's Snapshot told it (nothing to tell until the stored presence changes). */
    seen(session: DesktopSession, record: Pick<PresenceDocument, 'since' | 'presence'>): void {
      session.presenceSeen = { since: record.since, presence: record.presence };
    },
    /** A stream's periodic check for a change made elsewhere (another replica, a supervisor). */
    async poll(session: DesktopSession): Promise<void> {
      let record: PresenceRecord | undefined;
      let current: AgentStatus;
      try {
        record = await stores.presence.get(key(session.tenantId, session.agentId));
        if (record?.agentDeleted) throw new PermissionDeniedError('the agent was deleted');
        if (!record || (session.presenceSeen?.since === record.since && session.presenceSeen.presence === record.presence))
          return;
        current = await status(session.tenantId, session.agentId);
      } catch (error) {
        if (error instanceof PermissionDeniedError) throw error;
        return; // a store hiccup (or an agent just deleted): the next refresh looks again
      }
      tell(session, record, current);
    },
  };
}
