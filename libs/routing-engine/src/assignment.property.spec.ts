import { AgentPresence } from '@mailroute/contracts';
import fc from 'fast-check';
import { planAssignments, planAssignmentsNaive, type AssignmentInput, type AssignmentPlan } from './assignment';
import { canTakeOffer, freeCapacity, type AgentSnapshot, type WaitingInteraction } from './model';
import { createQueuePolicy, effectivePriority, type QueuePolicy, type QueueStrategyName } from './queue-policy';
import { meetsRequirements } from './skills';

const NOW = Date.UTC(2026, 10, 22, 12, 0);
const MINUTE = 60_000;
const queueIds = ['q-a', 'q-b', 'q-c'];
const skillIds = ['german', 'billing', 'vip'];
const agentIds = Array.from({ length: 12 }, (_, i) => `agent-${String(i).padStart(2, '0')}`);

const strategy = fc.constantFrom<QueueStrategyName>('longest-idle', 'least-occupied', 'round-robin', 'best-skill-match');
const requirements = fc.uniqueArray(
  fc.record({ skill: fc.constantFrom(...skillIds), minLevel: fc.integer({ min: 1, max: 6 }) }),
  {
    selector: (requirement) => requirement.skill,
    maxLength: 2,
  },
);

const queuesArb: fc.Arbitrary<QueuePolicy[]> = fc.tuple(
  ...queueIds.map((queueId) =>
    fc
      .record({
        strategy,
        aging: fc.record({
          intervalMs: fc.constantFrom(MINUTE, 10 * MINUTE),
          increment: fc.integer({ min: 0, max: 50 }),
          ceiling: fc.integer({ min: 100, max: 1000 }),
        }),
        affinity: fc.record({
          enabled: fc.boolean(),
          windowMs: fc.constantFrom(0, 60 * MINUTE),
          ownerWaitMs: fc.constantFrom(0, 5 * MINUTE),
        }),
        escalationSteps: fc.constantFrom(
          [],
          [
            {
              afterWaitMs: 5 * MINUTE,
              action: { kind: 'relax-skills' as const, dropAll: false, dropSkills: ['vip'], lowerMinLevelBy: 2 },
            },
          ],
          [
            {
              afterWaitMs: 2 * MINUTE,
              action: { kind: 'relax-skills' as const, dropAll: true, dropSkills: [], lowerMinLevelBy: 0 },
            },
            {
              afterWaitMs: 20 * MINUTE,
              action: {
                kind: 'overflow' as const,
                queueId: queueIds[(queueIds.indexOf(queueId) + 1) % queueIds.length] as string,
                resetWaitTime: false,
              },
            },
          ],
        ),
      })
      .map((settings) => createQueuePolicy(queueId, settings)),
  ),
);

const agentArb = (agentId: string): fc.Arbitrary<AgentSnapshot> =>
  fc
    .record({
      enabled: fc.constantFrom(true, true, true, true, false),
      presence: fc.constantFrom(
        AgentPresence.AGENT_PRESENCE_AVAILABLE,
        AgentPresence.AGENT_PRESENCE_AVAILABLE,
        AgentPresence.AGENT_PRESENCE_AVAILABLE,
        AgentPresence.AGENT_PRESENCE_BUSY,
        AgentPresence.AGENT_PRESENCE_AWAY,
        AgentPresence.AGENT_PRESENCE_OFFLINE,
      ),
      capacity: fc.integer({ min: 1, max: 5 }),
      activeInteractions: fc.integer({ min: 0, max: 3 }),
      pendingOffers: fc.integer({ min: 0, max: 1 }),
      skills: fc.dictionary(fc.constantFrom(...skillIds), fc.integer({ min: 1, max: 10 }), { minKeys: 1, maxKeys: 3 }),
      queueIds: fc.subarray(queueIds, { minLength: 1 }),
      idleSince: fc.option(fc.integer({ min: NOW - 60 * MINUTE, max: NOW }), { nil: undefined }),
      lastAssignedAt: fc.option(fc.integer({ min: NOW - 120 * MINUTE, max: NOW }), { nil: undefined }),
    })
    .map((agent) => ({ agentId, ...agent }));

const waitingArb = (index: number): fc.Arbitrary<WaitingInteraction> =>
  fc
    .record({
      queueId: fc.constantFrom(...queueIds),
      priority: fc.integer({ min: 0, max: 1000 }),
      requiredSkills: requirements,
      queuedAt: fc.integer({ min: NOW - 90 * MINUTE, max: NOW }),
      enteredOffset: fc.integer({ min: 0, max: 30 * MINUTE }),
      escalationStepsApplied: fc.integer({ min: 0, max: 1 }),
      declinedBy: fc.subarray(agentIds, { maxLength: 3 }),
      affinity: fc.option(
        fc.record({ agentId: fc.constantFrom(...agentIds), previousClosedAt: fc.integer({ min: NOW - 120 * MINUTE, max: NOW }) }),
        {
          nil: undefined,
        },
      ),
    })
    .map(({ enteredOffset, ...rest }) => ({
      interactionId: `i-${String(index).padStart(3, '0')}`,
      ...rest,
      enteredQueueAt: Math.min(NOW, rest.queuedAt + enteredOffset),
    }));

const inputArb: fc.Arbitrary<AssignmentInput> = fc
  .record({
    queues: queuesArb,
    agents: fc.tuple(...agentIds.map(agentArb)),
    waitingCount: fc.integer({ min: 0, max: 40 }),
    cursors: fc.dictionary(fc.constantFrom(...queueIds), fc.constantFrom(...agentIds, 'agent-05x')),
    seed: fc.integer(),
  })
  .chain(({ queues, agents, waitingCount, cursors }) =>
    fc.tuple(...Array.from({ length: waitingCount }, (_, i) => waitingArb(i))).map((waiting) => ({
      now: NOW,
      queues,
      agents,
      waiting,
      roundRobinCursors: cursors,
    })),
  );

/** The state each interaction is routed in after this plan's escalations. */
function afterEscalation(
  input: AssignmentInput,
  plan: AssignmentPlan,
  interactionId: string,
): { queueId: string; skills: WaitingInteraction['requiredSkills'] } {
  const original = input.waiting.find((waiting) => waiting.interactionId === interactionId) as WaitingInteraction;
  let state = { queueId: original.queueId, skills: original.requiredSkills };
  for (const decision of plan.escalations.filter((escalation) => escalation.interactionId === interactionId)) {
    state =
      decision.kind === 'overflow'
        ? { queueId: decision.toQueueId, skills: decision.requiredSkills }
        : { ...state, skills: decision.requiredSkills };
  }
  return state;
}

describe('planAssignments (properties)', () => {
  it('decides exactly what the naive O(W×A) reference decides', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        expect(planAssignments(input)).toEqual(planAssignmentsNaive(input));
      }),
      { numRuns: 400 },
    );
  });

  it('never exceeds an agent’s capacity and only offers to enabled, AVAILABLE agents', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planAssignments(input);
        for (const agent of input.agents) {
          const offers = plan.offers.filter((offer) => offer.agentId === agent.agentId).length;
          if (offers > 0) expect(canTakeOffer(agent)).toBe(true);
          expect(agent.activeInteractions + agent.pendingOffers + offers).toBeLessThanOrEqual(
            Math.max(agent.capacity, agent.activeInteractions + agent.pendingOffers),
          );
          expect(offers).toBeLessThanOrEqual(Math.max(0, freeCapacity(agent)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never offers one interaction twice, nor to an agent who passed on it while an open eligible agent has not', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planAssignments(input);
        const ids = plan.offers.map((offer) => offer.interactionId);
        expect(new Set(ids).size).toBe(ids.length);
        for (const offer of plan.offers) {
          const waiting = input.waiting.find((candidate) => candidate.interactionId === offer.interactionId);
          const passed = waiting?.declinedBy ?? [];
          if (!offer.passesForgotten) {
            expect(passed).not.toContain(offer.agentId);
            continue;
          }
          // Passes are set aside only when every open member of the queue with the skills had passed.
          const routed = afterEscalation(input, plan, offer.interactionId);
          const openEligible = input.agents.filter(
            (agent) =>
              agent.enabled &&
              agent.presence === AgentPresence.AGENT_PRESENCE_AVAILABLE &&
              agent.queueIds.includes(routed.queueId) &&
              meetsRequirements(agent.skills, routed.skills),
          );
          expect(openEligible.length).toBeGreaterThan(0);
          expect(openEligible.filter((agent) => !passed.includes(agent.agentId))).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('routes only to queue members with every required skill (after escalation)', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planAssignments(input);
        for (const offer of plan.offers.filter((candidate) => candidate.reason === 'routed')) {
          const agent = input.agents.find((candidate) => candidate.agentId === offer.agentId) as AgentSnapshot;
          const routed = afterEscalation(input, plan, offer.interactionId);
          expect(offer.queueId).toBe(routed.queueId);
          expect(agent.queueIds).toContain(routed.queueId);
          expect(meetsRequirements(agent.skills, routed.skills)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('honours affinity only for an available owner with free capacity, within the window', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planAssignments(input);
        const queues = new Map((input.queues as QueuePolicy[]).map((queue) => [queue.queueId, queue]));
        for (const offer of plan.offers) {
          const waiting = input.waiting.find(
            (candidate) => candidate.interactionId === offer.interactionId,
          ) as WaitingInteraction;
          if (offer.reason !== 'affinity') continue;
          const agent = input.agents.find((candidate) => candidate.agentId === offer.agentId) as AgentSnapshot;
          const queue = queues.get(offer.queueId) as QueuePolicy;
          expect(waiting.affinity?.agentId).toBe(offer.agentId);
          expect(canTakeOffer(agent)).toBe(true);
          expect(queue.affinity.enabled).toBe(true);
          expect(NOW - (waiting.affinity?.previousClosedAt ?? -Infinity)).toBeLessThanOrEqual(queue.affinity.windowMs);
        }
        // A held interaction is offered to nobody.
        const offered = new Set(plan.offers.map((offer) => offer.interactionId));
        for (const held of plan.heldForAffinity) expect(offered.has(held)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('serves interactions competing for the same agents in effective-priority order, oldest first on ties', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ priority: fc.integer({ min: 0, max: 1000 }), queuedAt: fc.integer({ min: NOW - 100 * MINUTE, max: NOW }) }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.integer({ min: 1, max: 10 }),
        (items, capacity) => {
          const queue = createQueuePolicy('q', { aging: { intervalMs: MINUTE, increment: 7, ceiling: 900 } });
          const waiting = items.map((item, i) => ({
            interactionId: `i-${String(i).padStart(2, '0')}`,
            queueId: 'q',
            requiredSkills: [],
            enteredQueueAt: item.queuedAt,
            escalationStepsApplied: 0,
            ...item,
          }));
          const agent: AgentSnapshot = {
            agentId: 'solo',
            enabled: true,
            presence: AgentPresence.AGENT_PRESENCE_AVAILABLE,
            capacity,
            activeInteractions: 0,
            pendingOffers: 0,
            skills: {},
            queueIds: ['q'],
          };
          const plan = planAssignments({ now: NOW, queues: [queue], agents: [agent], waiting });
          const score = (item: (typeof waiting)[number]): number =>
            effectivePriority(queue.aging, item.priority, item.queuedAt, NOW);
          const expected = [...waiting]
            .sort((a, b) => score(b) - score(a) || a.queuedAt - b.queuedAt || (a.interactionId < b.interactionId ? -1 : 1))
            .slice(0, capacity)
            .map((item) => item.interactionId);
          expect(plan.offers.map((offer) => offer.interactionId)).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('starves nobody: with aging, an interaction waits at most the time to reach the ceiling plus one turn per older interaction', () => {
    const tick = MINUTE;
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 2 }), { minLength: 5, maxLength: 40 }),
        fc.integer({ min: 10, max: 200 }),
        (arrivalsPerTick, increment) => {
          const aging = { intervalMs: tick, increment, ceiling: 1000 };
          const horizon = Math.ceil(1000 / increment) * tick;
          const queue = createQueuePolicy('q', { aging });
          let waiting: WaitingInteraction[] = [];
          const arrived = new Map<string, number>();
          const served = new Map<string, number>();
          const ticks = arrivalsPerTick.length * 3; // room to drain
          for (let t = 0; t < ticks; t++) {
            const now = NOW + t * tick;
            (arrivalsPerTick[t] ?? []).forEach((priority, k) => {
              const interactionId = `i-${String(t).padStart(3, '0')}-${k}`;
              arrived.set(interactionId, now);
              waiting.push({
                interactionId,
                queueId: 'q',
                priority,
                requiredSkills: [],
                queuedAt: now,
                enteredQueueAt: now,
                escalationStepsApplied: 0,
              });
            });
            // One agent, one interaction per tick: arrivals outpace service while bursts last.
            const agent: AgentSnapshot = {
              agentId: 'solo',
              enabled: true,
              presence: AgentPresence.AGENT_PRESENCE_AVAILABLE,
              capacity: 1,
              activeInteractions: 0,
              pendingOffers: 0,
              skills: {},
              queueIds: ['q'],
            };
            const plan = planAssignments({ now, queues: [queue], agents: [agent], waiting });
            for (const offer of plan.offers) served.set(offer.interactionId, now);
            waiting = waiting.filter((item) => !served.has(item.interactionId));
          }
          for (const [id, at] of arrived) {
            const servedAt = served.get(id);
            const older = [...arrived.values()].filter((other) => other <= at).length - 1;
            if (servedAt === undefined) {
              // Still waiting at the end: it must not have been waiting past its bound.
              expect(NOW + (ticks - 1) * tick - at).toBeLessThanOrEqual(horizon + (older + 1) * tick);
            } else {
              expect(servedAt - at).toBeLessThanOrEqual(horizon + (older + 1) * tick);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
