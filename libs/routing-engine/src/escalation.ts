import type { SkillRequirement } from '@mailroute/contracts';
import type { EpochMillis, WaitingInteraction } from './model';
import { escalationDueAt, type QueuePolicy } from './queue-policy';
import { mergeRequirements, relaxRequirements } from './skills';

/** A queue escalation step that fired for a waiting interaction; the service persists it. */
export type EscalationDecision =
  | {
      kind: 'relax-skills';
      interactionId: string;
      queueId: string;
      /** Index of the step in the queue's escalation_steps. */
      stepIndex: number;
      /** When the step became due (enteredQueueAt + after_wait, in business time when the queue says so); <= now. */
      dueAt: EpochMillis;
      requiredSkills: readonly SkillRequirement[];
      /** The interaction's new escalationStepsApplied (stepIndex + 1). */
      escalationStepsApplied: number;
    }
  | {
      kind: 'overflow';
      interactionId: string;
      fromQueueId: string;
      toQueueId: string;
      stepIndex: number;
      dueAt: EpochMillis;
      /** Skills required in the target queue: the current ones plus the target queue's. */
      requiredSkills: readonly SkillRequirement[];
      /** Unchanged, or `now` when the step resets the waiting time. */
      queuedAt: EpochMillis;
      /** `now`: the target queue's steps count from here. */
      enteredQueueAt: EpochMillis;
      escalationStepsApplied: 0;
    };

/** A closed queue overflows out of hours (QueueHoursPolicy.whenClosed) to a queue that is open; the service persists it like an overflow. */
export interface OutOfHoursOverflowDecision {
  kind: 'out-of-hours-overflow';
  interactionId: string;
  fromQueueId: string;
  toQueueId: string;
  /** Skills required in the target queue: the current ones plus the target queue's. */
  requiredSkills: readonly SkillRequirement[];
  /** Unchanged: the customer's wait goes on. */
  queuedAt: EpochMillis;
  /** `now`: the target queue's steps count from here. */
  enteredQueueAt: EpochMillis;
  escalationStepsApplied: 0;
}

export interface EscalationOutcome {
  /** The interaction after the fired steps (unchanged when none fired). */
  interaction: WaitingInteraction;
  /** Steps fired, in order. At most one overflow, and it is last. */
  decisions: EscalationDecision[];
  /** When the next step of its (new) queue becomes due; undefined when none is left. */
  nextDueAt: EpochMillis | undefined;
  /** Set when a step overflows to a queue that is not in `queues`: the interaction stays and later steps wait. */
  blocked?: { stepIndex: number; message: string } | undefined;
}

/**
 * Fires every escalation step of the interaction's queue that is due at `now` and not yet applied,
 * in order: a step fires once, when `now - enteredQueueAt >= after_wait` (counting only the calendar's
 * open time when the queue's hours say `businessTimeEscalation`). Relaxing skills keeps
 * the interaction in its queue; an overflow moves it and ends the chain (the target queue's steps
 * count from `now`, so a cycle of overflows advances one hop per due time, never in a loop).
 */
export function applyDueEscalations(
  interaction: WaitingInteraction,
  queues: ReadonlyMap<string, QueuePolicy>,
  now: EpochMillis,
): EscalationOutcome {
  const queue = queues.get(interaction.queueId);
  if (!queue) return { interaction, decisions: [], nextDueAt: undefined };
  const steps = queue.escalationSteps;
  const decisions: EscalationDecision[] = [];
  let current = interaction;
  for (let index = interaction.escalationStepsApplied; index < steps.length; index++) {
    const step = steps[index] as QueuePolicy['escalationSteps'][number];
    const dueAt = escalationDueAt(queue, interaction.enteredQueueAt, step.afterWaitMs);
    if (dueAt > now) return { interaction: current, decisions, nextDueAt: dueAt };
    const action = step.action;
    if (action.kind === 'relax-skills') {
      const requiredSkills = relaxRequirements(current.requiredSkills, action);
      current = { ...current, requiredSkills, escalationStepsApplied: index + 1 };
      decisions.push({
        kind: 'relax-skills',
        interactionId: interaction.interactionId,
        queueId: queue.queueId,
        stepIndex: index,
        dueAt,
        requiredSkills,
        escalationStepsApplied: index + 1,
      });
      continue;
    }
    const target = queues.get(action.queueId);
    if (!target || target.queueId === queue.queueId) {
      return {
        interaction: current,
        decisions,
        nextDueAt: undefined,
        blocked: {
          stepIndex: index,
          message: `escalation step ${index} of queue ${queue.queueId} overflows to unknown queue ${action.queueId}`,
        },
      };
    }
    const requiredSkills = mergeRequirements(current.requiredSkills, target.requiredSkills);
    const queuedAt = action.resetWaitTime ? now : current.queuedAt;
    current = { ...current, queueId: target.queueId, requiredSkills, queuedAt, enteredQueueAt: now, escalationStepsApplied: 0 };
    decisions.push({
      kind: 'overflow',
      interactionId: interaction.interactionId,
      fromQueueId: queue.queueId,
      toQueueId: target.queueId,
      stepIndex: index,
      dueAt,
      requiredSkills,
      queuedAt,
      enteredQueueAt: now,
      escalationStepsApplied: 0,
    });
    const next = target.escalationSteps[0];
    return { interaction: current, decisions, nextDueAt: next ? escalationDueAt(target, now, next.afterWaitMs) : undefined };
  }
  return { interaction: current, decisions, nextDueAt: undefined };
}
