import { AgentPresence, type Agent } from '@mailroute/contracts';
import { toAgentCapacity, toSkillLevels, type AgentSnapshot } from '@mailroute/routing-engine';
import type { StoredConfig } from '../routing/config-repository';
import { keyAfterTenant, slotAgentOf, tenantPrefix } from '../store/router-keys';
import type {
  AgentActivityDocument,
  PresenceDocument,
  RouterStores,
  SessionDocument,
  SlotDocument,
} from '../store/router-stores';
import type { ConfigSnapshots } from './config-snapshots';

/** An agent as planning, the workload-manager API and the desktop see it now. */
export interface AgentView {
  agent: Agent;
  snapshot: AgentSnapshot;
  connected: boolean;
  presenceSince: number;
  presenceReason: string;
}

interface Row<T> {
  key: string;
  document: T;
}

/**
 * The agents' views from a tenant's rows: configured agents, their stored presence, desktop
 * sessions (connected = seen within `sessionTtlMs` and not disconnected; else OFFLINE), capacity
 * slots (offers pending, interactions active) and activity (idle since, last assigned).
 */
export function toAgentViews(input: {
  tenantId: string;
  now: number;
  sessionTtlMs: number;
  agents: readonly StoredConfig<Agent>[];
  presence: readonly Row<PresenceDocument>[];
  sessions: readonly Row<SessionDocument>[];
  slots: readonly Row<SlotDocument>[];
  activity: readonly Row<AgentActivityDocument>[];
}): Map<string, AgentView> {
  const { tenantId, now } = input;
  const activityBy = new Map(input.activity.map((a) => [keyAfterTenant(tenantId, a.key), a.document]));
  const presenceBy = new Map(input.presence.map((p) => [keyAfterTenant(tenantId, p.key), p.document]));
  const sessionBy = new Map(input.sessions.map((s) => [keyAfterTenant(tenantId, s.key), s.document]));
  const load = new Map<string, { active: number; pending: number; lastAssignedAt: number | undefined }>();
  for (const slot of input.slots) {
    const agentId = slotAgentOf(tenantId, slot.key);
    const entry = load.get(agentId) ?? { active: 0, pending: 0, lastAssignedAt: undefined };
    if (slot.document.kind === 'offer') entry.pending += 1;
    else {
      entry.active += 1;
      entry.lastAssignedAt = Math.max(entry.lastAssignedAt ?? 0, slot.document.at);
    }
    load.set(agentId, entry);
  }
  const views = new Map<string, AgentView>();
  for (const { id, value } of input.agents) {
    const session = sessionBy.get(id);
    const connected =
      session !== undefined && session.disconnectedAt === undefined && now - session.lastSeenAt < input.sessionTtlMs;
    const stored = presenceBy.get(id);
    const presence = connected
      ? (stored?.presence ?? AgentPresence.AGENT_PRESENCE_AVAILABLE)
      : AgentPresence.AGENT_PRESENCE_OFFLINE;
    const l = load.get(id) ?? { active: 0, pending: 0, lastAssignedAt: undefined };
    views.set(id, {
      agent: value,
      connected,
      presenceSince: stored?.since ?? 0,
      presenceReason: stored?.reason ?? '',
      snapshot: {
        agentId: id,
        enabled: value.enabled !== false,
        presence,
        capacity: toAgentCapacity(value.capacity),
        activeInteractions: l.active,
        pendingOffers: l.pending,
        skills: toSkillLevels(value.skills),
        queueIds: value.queueIds,
        // Idle since the later of: becoming available (sign-in, presence change) and the end of the last work.
        idleSince: l.active === 0 ? Math.max(stored?.since ?? 0, activityBy.get(id)?.lastEndedAt ?? 0) : undefined,
        lastAssignedAt: l.lastAssignedAt ?? activityBy.get(id)?.lastAssignedAt,
      },
    });
  }
  return views;
}

/** Reads a tenant's agent views (toAgentViews over its rows; the agents from the configuration snapshots). */
export function createAgentViews(deps: {
  stores: Pick<RouterStores, 'presence' | 'sessions' | 'slots' | 'activity'>;
  snapshots: Pick<ConfigSnapshots, 'cachedAll'>;
  clock: () => number;
  /** An agent whose stream has not been seen for this long is OFFLINE (RouterCoreOptions.sessionTtlMs). */
  sessionTtlMs: number;
}) {
  const { stores, snapshots } = deps;
  return async function agentViews(tenantId: string): Promise<Map<string, AgentView>> {
    const now = deps.clock();
    const prefix = tenantPrefix(tenantId);
    const [agents, presence, sessions, slots, activity] = await Promise.all([
      snapshots.cachedAll(tenantId, 'agent'),
      stores.presence.list({ prefix, limit: 100_000 }),
      stores.sessions.list({ prefix, limit: 100_000 }),
      stores.slots.list({ prefix, limit: 1_000_000 }),
      stores.activity.list({ prefix, limit: 100_000 }),
    ]);
    return toAgentViews({ tenantId, now, sessionTtlMs: deps.sessionTtlMs, agents, presence, sessions, slots, activity });
  };
}
