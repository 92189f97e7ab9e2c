import { Agent, AgentPresence } from '@mailroute/contracts';
import { toAgentViews } from './agent-views';

const agent = (id: string, patch: Partial<Agent> = {}) => ({
  id,
  version: 1,
  createdAt: 0,
  updatedAt: 0,
  value: Agent.fromPartial({ agentId: id, displayName: id, capacity: 3, queueIds: ['q'], ...patch }),
});

describe('toAgentViews', () => {
  const now = 100_000;
  const views = toAgentViews({
    tenantId: 't1',
    now,
    sessionTtlMs: 20_000,
    agents: [agent('alice'), agent('bob'), agent('cy', { enabled: false }), agent('dee')],
    presence: [
      { key: 't1/alice', document: { presence: AgentPresence.AGENT_PRESENCE_BUSY, reason: 'lunch', since: 90_000 } },
      { key: 't1/bob', document: { presence: AgentPresence.AGENT_PRESENCE_AVAILABLE, reason: '', since: 50_000 } },
    ],
    sessions: [
      { key: 't1/alice', document: { replicaId: 'r', clientInstanceId: 'c', lastSeenAt: now - 1_000 } },
      { key: 't1/bob', document: { replicaId: 'r', clientInstanceId: 'c', lastSeenAt: now - 1_000 } },
      { key: 't1/cy', document: { replicaId: 'r', clientInstanceId: 'c', lastSeenAt: now - 1_000, disconnectedAt: now - 500 } },
      { key: 't1/dee', document: { replicaId: 'r', clientInstanceId: 'c', lastSeenAt: now - 20_000 } },
    ],
    slots: [
      { key: 't1/alice/000', document: { interactionId: 'i1', kind: 'assigned', at: 70_000 } },
      { key: 't1/alice/001', document: { interactionId: 'i2', kind: 'assigned', at: 80_000 } },
      { key: 't1/alice/002', document: { interactionId: 'i3', kind: 'offer', at: 95_000 } },
    ],
    activity: [{ key: 't1/bob', document: { lastEndedAt: 60_000, lastAssignedAt: 40_000 } }],
  });

  it('counts active interactions and pending offers from the capacity slots', () => {
    expect(views.get('alice')?.snapshot).toMatchObject({
      presence: AgentPresence.AGENT_PRESENCE_BUSY,
      activeInteractions: 2,
      pendingOffers: 1,
      lastAssignedAt: 80_000,
      idleSince: undefined,
    });
    expect(views.get('alice')).toMatchObject({ connected: true, presenceReason: 'lunch', presenceSince: 90_000 });
  });

  it('has an idle agent idle since the later of its presence change and the end of its last work', () => {
    expect(views.get('bob')?.snapshot).toMatchObject({ activeInteractions: 0, idleSince: 60_000, lastAssignedAt: 40_000 });
  });

  it('shows disconnected and silent agents OFFLINE, and disabled agents disabled', () => {
    expect(views.get('cy')).toMatchObject({
      connected: false,
      snapshot: { presence: AgentPresence.AGENT_PRESENCE_OFFLINE, enabled: false },
    });
    expect(views.get('dee')).toMatchObject({ connected: false, snapshot: { presence: AgentPresence.AGENT_PRESENCE_OFFLINE } });
    expect(views.get('bob')?.snapshot.enabled).toBe(true);
  });
});
