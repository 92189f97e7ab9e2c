import { AgentPresence } from '@mailroute/contracts';
import { planAssignments, planAssignmentsNaive, type AssignmentInput } from './assignment';
import type { AgentSnapshot, WaitingInteraction } from './model';
import { createQueuePolicy, type QueuePolicy } from './queue-policy';

const NOW = Date.UTC(2026, 10, 22, 12, 0);
const MINUTE = 60_000;

function agent(agentId: string, overrides: Partial<AgentSnapshot> = {}): AgentSnapshot {
  return {
    agentId,
    enabled: true,
    presence: AgentPresence.AGENT_PRESENCE_AVAILABLE,
    capacity: 3,
    activeInteractions: 0,
    pendingOffers: 0,
    skills: {},
    queueIds: ['support'],
    ...overrides,
  };
}

function waiting(interactionId: string, overrides: Partial<WaitingInteraction> = {}): WaitingInteraction {
  return {
    interactionId,
    queueId: 'support',
    priority: 100,
    requiredSkills: [],
    queuedAt: NOW - MINUTE,
    enteredQueueAt: NOW - MINUTE,
    escalationStepsApplied: 0,
    ...overrides,
  };
}

const support = (overrides: Partial<QueuePolicy> = {}): QueuePolicy => createQueuePolicy('support', overrides);

function plan(input: Omit<AssignmentInput, 'now'> & { now?: number }) {
  const full = { now: NOW, ...input };
  const result = planAssignments(full);
  expect(result).toEqual(planAssignmentsNaive(full));
  return result;
}

const pairs = (result: ReturnType<typeof planAssignments>): string[] =>
  result.offers.map((offer) => `${offer.interactionId}→${offer.agentId}`);

describe('planAssignments', () => {
  it('offers the longest idle agent first, idle agents before working ones', () => {
    const result = plan({
      queues: [support()],
      agents: [
        agent('ana', { idleSince: NOW - 5 * MINUTE }),
        agent('bo', { idleSince: NOW - 30 * MINUTE }),
        agent('cy', { activeInteractions: 1 }),
      ],
      waiting: [waiting('i1'), waiting('i2', { queuedAt: NOW }), waiting('i3', { queuedAt: NOW + 1 })],
    });
    expect(pairs(result)).toEqual(['i1→bo', 'i2→ana', 'i3→cy']);
  });

  it('offers the least occupied agent first under LEAST_OCCUPIED', () => {
    const result = plan({
      queues: [support({ strategy: 'least-occupied' })],
      agents: [
        agent('ana', { capacity: 4, activeInteractions: 2 }),
        agent('bo', { capacity: 2, activeInteractions: 0 }),
        agent('cy', { capacity: 10, activeInteractions: 3 }),
      ],
      waiting: [waiting('i1')],
    });
    expect(pairs(result)).toEqual(['i1→bo']);
  });

  it('offers the agent whose skills exceed the requirements most under BEST_SKILL_MATCH', () => {
    const result = plan({
      queues: [support({ strategy: 'best-skill-match' })],
      agents: [
        agent('ana', { skills: { german: 5 } }),
        agent('bo', { skills: { german: 9 } }),
        agent('cy', { skills: { german: 2 } }),
      ],
      waiting: [waiting('i1', { requiredSkills: [{ skill: 'german', minLevel: 3 }] })],
    });
    expect(pairs(result)).toEqual(['i1→bo']);
  });

  it('takes agents in turn under ROUND_ROBIN and returns the moved rotation', () => {
    const result = plan({
      queues: [support({ strategy: 'round-robin' })],
      agents: [agent('ana', { capacity: 5 }), agent('bo', { capacity: 5 }), agent('cy', { capacity: 5 })],
      waiting: ['i1', 'i2', 'i3', 'i4'].map((id, i) => waiting(id, { queuedAt: NOW - 10 + i })),
      roundRobinCursors: { support: 'ana' },
    });
    expect(pairs(result)).toEqual(['i1→bo', 'i2→cy', 'i3→ana', 'i4→bo']);
    expect(result.roundRobinCursors).toEqual({ support: 'bo' });
  });

  it('never offers beyond free capacity, counting pending offers and capacity lowered below the load', () => {
    const result = plan({
      queues: [support()],
      agents: [
        agent('ana', { capacity: 3, activeInteractions: 1, pendingOffers: 1 }),
        agent('bo', { capacity: 1, activeInteractions: 2 }),
      ],
      waiting: ['i1', 'i2', 'i3'].map((id) => waiting(id)),
    });
    expect(pairs(result)).toEqual(['i1→ana']);
  });

  it('offers nothing to agents who are disabled, busy, away or offline, or not members of the queue', () => {
    const result = plan({
      queues: [support()],
      agents: [
        agent('ana', { enabled: false }),
        agent('bo', { presence: AgentPresence.AGENT_PRESENCE_BUSY }),
        agent('cy', { presence: AgentPresence.AGENT_PRESENCE_AWAY }),
        agent('di', { presence: AgentPresence.AGENT_PRESENCE_OFFLINE }),
        agent('ed', { queueIds: ['sales'] }),
      ],
      waiting: [waiting('i1')],
    });
    expect(result.offers).toEqual([]);
  });

  it('requires every skill at its minimum level and skips agents who declined', () => {
    const result = plan({
      queues: [support()],
      agents: [
        agent('ana', { skills: { german: 2 } }),
        agent('bo', { skills: { german: 4 } }),
        agent('cy', { skills: { german: 4, billing: 1 } }),
        // Open and eligible for i2 but full: it has not passed, so bo's and cy's passes stand.
        agent('di', { skills: { german: 3 }, capacity: 1, activeInteractions: 1 }),
      ],
      waiting: [
        waiting('i1', {
          requiredSkills: [
            { skill: 'german', minLevel: 3 },
            { skill: 'billing', minLevel: 1 },
          ],
          declinedBy: [],
        }),
        waiting('i2', { requiredSkills: [{ skill: 'german', minLevel: 3 }], declinedBy: ['bo', 'cy'] }),
      ],
    });
    expect(pairs(result)).toEqual(['i1→cy']);
  });

  it('offers again to an agent who passed once every open member with the skills has passed, and says the passes are set aside', () => {
    const result = plan({
      queues: [support()],
      agents: [agent('ana'), agent('bo'), agent('away', { presence: AgentPresence.AGENT_PRESENCE_AWAY })],
      waiting: [waiting('i1', { declinedBy: ['ana', 'bo'] }), waiting('i2', { declinedBy: ['ana'] })],
    });
    expect(result.offers).toEqual([
      expect.objectContaining({ interactionId: 'i1', passesForgotten: true }),
      expect.objectContaining({ interactionId: 'i2', agentId: 'bo' }),
    ]);
    expect(result.offers[1]).not.toHaveProperty('passesForgotten');
    expect(['ana', 'bo']).toContain(result.offers[0]?.agentId);
  });

  it('keeps the passes while an open eligible member has not passed, even one at capacity', () => {
    const result = plan({
      queues: [support()],
      agents: [agent('ana'), agent('bo', { capacity: 1, activeInteractions: 1 })],
      waiting: [waiting('i1', { declinedBy: ['ana'] })],
    });
    expect(result.offers).toEqual([]);
  });

  it('serves higher effective priority first, and an aged interaction overtakes a newer urgent one', () => {
    const queue = support({ aging: { intervalMs: MINUTE, increment: 10, ceiling: 1000 } });
    const result = plan({
      queues: [queue],
      agents: [agent('ana', { capacity: 1 })],
      // 100 + 10 × 45 = 550 beats a fresh 500.
      waiting: [
        waiting('old', { priority: 100, queuedAt: NOW - 45 * MINUTE }),
        waiting('urgent', { priority: 500, queuedAt: NOW }),
      ],
    });
    expect(result.offers).toMatchObject([{ interactionId: 'old', effectivePriority: 550 }]);
  });

  it('sets each offer to expire after the queue’s offer timeout', () => {
    const result = plan({ queues: [support({ offerTimeoutMs: 45_000 })], agents: [agent('ana')], waiting: [waiting('i1')] });
    expect(result.offers).toEqual([
      {
        interactionId: 'i1',
        agentId: 'ana',
        queueId: 'support',
        reason: 'routed',
        expiresAt: NOW + 45_000,
        effectivePriority: 100,
      },
    ]);
  });

  describe('conversation affinity', () => {
    const reply = (overrides: Partial<WaitingInteraction> = {}): WaitingInteraction =>
      waiting('reply', { affinity: { agentId: 'owner', previousClosedAt: NOW - 60 * MINUTE }, ...overrides });
    const others = [agent('other', { idleSince: NOW - 99 * MINUTE })];

    it('sends a customer reply back to the owner who is available with capacity, even outside the queue', () => {
      const result = plan({ queues: [support()], agents: [...others, agent('owner', { queueIds: [] })], waiting: [reply()] });
      expect(result.offers).toMatchObject([{ interactionId: 'reply', agentId: 'owner', reason: 'affinity' }]);
    });

    it.each([
      ['away', { presence: AgentPresence.AGENT_PRESENCE_AWAY }],
      ['offline', { presence: AgentPresence.AGENT_PRESENCE_OFFLINE }],
      ['at capacity', { activeInteractions: 3 }],
      ['disabled', { enabled: false }],
    ])('routes normally at once when the owner is %s and there is no owner wait', (_label, overrides) => {
      const result = plan({ queues: [support()], agents: [...others, agent('owner', overrides)], waiting: [reply()] });
      expect(result.offers).toMatchObject([{ agentId: 'other', reason: 'routed' }]);
    });

    it('holds the reply for an unavailable owner during owner_wait, then routes it normally', () => {
      const queue = support({ affinity: { enabled: true, windowMs: 72 * 60 * MINUTE, ownerWaitMs: 10 * MINUTE } });
      const agents = [...others, agent('owner', { presence: AgentPresence.AGENT_PRESENCE_AWAY })];
      const during = plan({ queues: [queue], agents, waiting: [reply({ enteredQueueAt: NOW - 4 * MINUTE })] });
      expect(during.offers).toEqual([]);
      expect(during.heldForAffinity).toEqual(['reply']);
      expect(during.nextWakeAt).toBe(NOW + 6 * MINUTE);
      const after = plan({
        now: NOW + 6 * MINUTE,
        queues: [queue],
        agents,
        waiting: [reply({ enteredQueueAt: NOW - 4 * MINUTE })],
      });
      expect(after.offers).toMatchObject([{ agentId: 'other', reason: 'routed' }]);
    });

    it('ignores affinity after the window, when disabled, and when the owner declined', () => {
      const agents = [...others, agent('owner')];
      const late = plan({
        queues: [support({ affinity: { enabled: true, windowMs: 30 * MINUTE, ownerWaitMs: 0 } })],
        agents,
        waiting: [reply()],
      });
      const disabled = plan({
        queues: [support({ affinity: { enabled: false, windowMs: 72 * 60 * MINUTE, ownerWaitMs: 0 } })],
        agents,
        waiting: [reply()],
      });
      const declined = plan({ queues: [support()], agents, waiting: [reply({ declinedBy: ['owner'] })] });
      for (const result of [late, disabled, declined])
        expect(result.offers).toMatchObject([{ agentId: 'other', reason: 'routed' }]);
    });
  });

  describe('escalation', () => {
    const bullseye = support({
      escalationSteps: [
        { afterWaitMs: 5 * MINUTE, action: { kind: 'relax-skills', dropAll: false, dropSkills: [], lowerMinLevelBy: 3 } },
        { afterWaitMs: 15 * MINUTE, action: { kind: 'overflow', queueId: 'general', resetWaitTime: false } },
      ],
    });
    const general = createQueuePolicy('general');
    const agents = [agent('junior', { skills: { german: 2 } })];
    const german = (enteredMinutesAgo: number, applied = 0): WaitingInteraction =>
      waiting('i1', {
        requiredSkills: [{ skill: 'german', minLevel: 5 }],
        enteredQueueAt: NOW - enteredMinutesAgo * MINUTE,
        escalationStepsApplied: applied,
      });

    it('offers nothing before the first step is due and says when it will be', () => {
      const result = plan({ queues: [bullseye, general], agents, waiting: [german(4)] });
      expect(result.offers).toEqual([]);
      expect(result.escalations).toEqual([]);
      expect(result.nextWakeAt).toBe(NOW + MINUTE);
    });

    it('relaxes skills when the step is due and offers to the wider ring at once', () => {
      const result = plan({ queues: [bullseye, general], agents, waiting: [german(5)] });
      expect(result.escalations).toMatchObject([
        { kind: 'relax-skills', stepIndex: 0, requiredSkills: [{ skill: 'german', minLevel: 2 }], escalationStepsApplied: 1 },
      ]);
      expect(pairs(result)).toEqual(['i1→junior']);
    });

    it('fires every due step in order, then offers from the overflow queue keeping the relaxed skills', () => {
      const result = plan({
        queues: [bullseye, general],
        agents: [agent('generalist', { queueIds: ['general'], skills: { german: 2 } })],
        waiting: [german(16)],
      });
      expect(result.escalations).toMatchObject([
        { kind: 'relax-skills', stepIndex: 0 },
        {
          kind: 'overflow',
          stepIndex: 1,
          fromQueueId: 'support',
          toQueueId: 'general',
          enteredQueueAt: NOW,
          queuedAt: NOW - MINUTE,
        },
      ]);
      expect(result.offers).toMatchObject([{ agentId: 'generalist', queueId: 'general' }]);
    });
  });

  it('considers a repeated interaction once and reports interactions of unknown queues', () => {
    const result = plan({
      queues: [support()],
      agents: [agent('ana')],
      waiting: [waiting('i1'), waiting('i1'), waiting('lost', { queueId: 'gone' })],
    });
    expect(pairs(result)).toEqual(['i1→ana']);
    expect(result.unknownQueue).toEqual(['lost']);
  });

  it('stops after maxOffers', () => {
    const result = plan({
      queues: [support()],
      agents: [agent('ana', { capacity: 10 })],
      waiting: ['a', 'b', 'c'].map((id) => waiting(id)),
      maxOffers: 2,
    });
    expect(result.offers).toHaveLength(2);
  });
});
