import fc from 'fast-check';
import { applyDueEscalations } from './escalation';
import type { WaitingInteraction } from './model';
import { createQueuePolicy, type EscalationPolicyStep, type QueuePolicy } from './queue-policy';

const T = Date.UTC(2026, 10, 22, 12, 0);
const MINUTE = 60_000;

const relax = (afterWaitMs: number, lowerMinLevelBy = 1): EscalationPolicyStep => ({
  afterWaitMs,
  action: { kind: 'relax-skills', dropAll: false, dropSkills: [], lowerMinLevelBy },
});
const overflow = (afterWaitMs: number, queueId: string, resetWaitTime = false): EscalationPolicyStep => ({
  afterWaitMs,
  action: { kind: 'overflow', queueId, resetWaitTime },
});
const interaction = (overrides: Partial<WaitingInteraction> = {}): WaitingInteraction => ({
  interactionId: 'i1',
  queueId: 'a',
  priority: 100,
  requiredSkills: [{ skill: 'german', minLevel: 8 }],
  queuedAt: T,
  enteredQueueAt: T,
  escalationStepsApplied: 0,
  ...overrides,
});
const queues = (...list: QueuePolicy[]): Map<string, QueuePolicy> => new Map(list.map((queue) => [queue.queueId, queue]));

describe('applyDueEscalations', () => {
  const tiers = queues(
    createQueuePolicy('a', { escalationSteps: [relax(5 * MINUTE), relax(10 * MINUTE), overflow(20 * MINUTE, 'b')] }),
    createQueuePolicy('b', { requiredSkills: [{ skill: 'email', minLevel: 1 }], escalationSteps: [relax(3 * MINUTE)] }),
  );

  it('fires a step exactly when its wait is reached, not a millisecond before', () => {
    expect(applyDueEscalations(interaction(), tiers, T + 5 * MINUTE - 1).decisions).toEqual([]);
    expect(applyDueEscalations(interaction(), tiers, T + 5 * MINUTE).decisions).toMatchObject([
      { kind: 'relax-skills', stepIndex: 0, dueAt: T + 5 * MINUTE },
    ]);
  });

  it('fires each step once: applied steps are skipped', () => {
    const outcome = applyDueEscalations(interaction({ escalationStepsApplied: 1 }), tiers, T + 6 * MINUTE);
    expect(outcome.decisions).toEqual([]);
    expect(outcome.nextDueAt).toBe(T + 10 * MINUTE);
  });

  it('catches up on every overdue step in order, ending with the overflow', () => {
    const outcome = applyDueEscalations(interaction(), tiers, T + 25 * MINUTE);
    expect(outcome.decisions.map((decision) => `${decision.kind}#${decision.stepIndex}`)).toEqual([
      'relax-skills#0',
      'relax-skills#1',
      'overflow#2',
    ]);
    expect(outcome.interaction).toMatchObject({
      queueId: 'b',
      queuedAt: T,
      enteredQueueAt: T + 25 * MINUTE,
      escalationStepsApplied: 0,
      requiredSkills: [
        { skill: 'email', minLevel: 1 },
        { skill: 'german', minLevel: 6 },
      ],
    });
    // The target queue's steps count from the overflow.
    expect(outcome.nextDueAt).toBe(T + 28 * MINUTE);
  });

  it('restarts the waiting time on overflow when the step says so', () => {
    const reset = queues(createQueuePolicy('a', { escalationSteps: [overflow(MINUTE, 'b', true)] }), createQueuePolicy('b'));
    expect(applyDueEscalations(interaction(), reset, T + 2 * MINUTE).interaction.queuedAt).toBe(T + 2 * MINUTE);
  });

  it('moves one hop per due time through a cycle of overflows, never looping', () => {
    const cycle = queues(
      createQueuePolicy('a', { escalationSteps: [overflow(MINUTE, 'b')] }),
      createQueuePolicy('b', { escalationSteps: [overflow(MINUTE, 'a')] }),
    );
    const outcome = applyDueEscalations(interaction(), cycle, T + 60 * MINUTE);
    expect(outcome.decisions).toHaveLength(1);
    expect(outcome.interaction.queueId).toBe('b');
  });

  it('blocks on an overflow to a queue that does not exist', () => {
    const broken = queues(createQueuePolicy('a', { escalationSteps: [overflow(MINUTE, 'gone')] }));
    expect(applyDueEscalations(interaction(), broken, T + 2 * MINUTE)).toMatchObject({
      decisions: [],
      blocked: { stepIndex: 0 },
    });
  });

  it('fires exactly the steps whose wait has passed, for any steps and any time', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 600 }), { maxLength: 10 }).map((minutes) => minutes.sort((x, y) => x - y)),
        fc.integer({ min: 0, max: 700 * MINUTE }),
        fc.nat({ max: 10 }),
        (minutes, elapsed, applied) => {
          const steps = minutes.map((m) => relax(m * MINUTE));
          const policy = queues(createQueuePolicy('a', { escalationSteps: steps }));
          const start = Math.min(applied, steps.length);
          const outcome = applyDueEscalations(interaction({ escalationStepsApplied: start }), policy, T + elapsed);
          const expected = minutes
            .map((m, index) => ({ m, index }))
            .filter(({ m, index }) => index >= start && m * MINUTE <= elapsed);
          expect(outcome.decisions.map((decision) => decision.stepIndex)).toEqual(expected.map(({ index }) => index));
          const next = minutes.find((m, index) => index >= start && m * MINUTE > elapsed);
          expect(outcome.nextDueAt).toBe(next === undefined ? undefined : T + next * MINUTE);
        },
      ),
      { numRuns: 300 },
    );
  });
});
