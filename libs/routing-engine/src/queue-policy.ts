import { OutOfHoursMode, QueueStrategy, type Queue, type QueueAcknowledgement } from '@mailroute/contracts';
import { addBusinessTime, isOpenAt, type BusinessCalendar } from './business-calendar';
import type { FieldViolation } from './errors';
import { normalizeRequirements, type NormalizedRequirements, type SkillRelaxation } from './skills';
import { durationToMillis, isResourceId, Violations } from './validation';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type QueueStrategyName = 'longest-idle' | 'least-occupied' | 'round-robin' | 'best-skill-match';

/** One escalation step with its defaults resolved. */
export interface EscalationPolicyStep {
  /** Waiting time in the current queue (since `enteredQueueAt`) after which the step fires. */
  afterWaitMs: number;
  action: ({ kind: 'relax-skills' } & SkillRelaxation) | { kind: 'overflow'; queueId: string; resetWaitTime: boolean };
}

/**
 * A queue's business hours: its calendar and what happens while it is closed. `wait` keeps the
 * interactions in the queue with no offers (unless `agentsWorkOutOfHours`); `overflow` moves them,
 * from the closing instant on, to another queue that is open then.
 */
export interface QueueHoursPolicy {
  calendar: BusinessCalendar;
  whenClosed: { kind: 'wait' } | { kind: 'overflow'; queueId: string };
  /** Agents of the queue may be offered its interactions while it is closed. */
  agentsWorkOutOfHours: boolean;
  /** The service-level threshold counts open time only (`serviceLevelDueAt`). */
  businessTimeServiceLevel?: boolean | undefined;
  /** Escalation steps' after_wait counts open time only (`escalationDueAt`). */
  businessTimeEscalation?: boolean | undefined;
}

/**
 * A queue as the engine uses it: every proto default resolved, durations in milliseconds. Build it
 * with `toQueuePolicy` from a stored (validated) proto Queue.
 */
export interface QueuePolicy {
  queueId: string;
  strategy: QueueStrategyName;
  /** Skills every interaction of the queue requires (merged into an interaction's on routing). */
  requiredSkills: NormalizedRequirements;
  offerTimeoutMs: number;
  /** `dueSoonMs`: how long before the due time an unanswered interaction is due soon; unset = `slaDueSoonMs`'s default. */
  serviceLevel: { thresholdMs: number; targetPercent: number; dueSoonMs?: number | undefined };
  aging: { intervalMs: number; increment: number; ceiling: number };
  escalationSteps: readonly EscalationPolicyStep[];
  affinity: { enabled: boolean; windowMs: number; ownerWaitMs: number };
  /** Business hours; undefined means always open. */
  hours?: QueueHoursPolicy | undefined;
}

/** Proto defaults (interaction_router.proto). */
export const defaultQueuePolicy = {
  strategy: 'longest-idle',
  offerTimeoutMs: 60 * SECOND,
  serviceLevel: { thresholdMs: 4 * HOUR, targetPercent: 80 },
  aging: { intervalMs: 10 * MINUTE, increment: 5, ceiling: 1000 },
  affinity: { enabled: true, windowMs: 72 * HOUR, ownerWaitMs: 0 },
} as const satisfies Partial<QueuePolicy>;

const strategyNames: Record<number, QueueStrategyName> = {
  [QueueStrategy.QUEUE_STRATEGY_UNSPECIFIED]: 'longest-idle',
  [QueueStrategy.QUEUE_STRATEGY_LONGEST_IDLE]: 'longest-idle',
  [QueueStrategy.QUEUE_STRATEGY_LEAST_OCCUPIED]: 'least-occupied',
  [QueueStrategy.QUEUE_STRATEGY_ROUND_ROBIN]: 'round-robin',
  [QueueStrategy.QUEUE_STRATEGY_BEST_SKILL_MATCH]: 'best-skill-match',
};

/**
 * Resolves a stored proto Queue's defaults. The queue should have passed `validateQueue`.
 * `calendars` gives the compiled calendars by id: a queue whose calendar is not among them has no
 * hours (always open), so the service must pass every calendar its queues name.
 */
export function toQueuePolicy(queue: Queue, calendars: ReadonlyMap<string, BusinessCalendar> = new Map()): QueuePolicy {
  const aging = queue.aging;
  const calendar = queue.hours ? calendars.get(queue.hours.calendarId) : undefined;
  return {
    queueId: queue.queueId,
    strategy: strategyNames[queue.strategy] ?? 'longest-idle',
    requiredSkills: normalizeRequirements(queue.requiredSkills),
    offerTimeoutMs: queue.offerTimeout ? durationToMillis(queue.offerTimeout) : defaultQueuePolicy.offerTimeoutMs,
    serviceLevel: queue.serviceLevel
      ? {
          thresholdMs: queue.serviceLevel.threshold
            ? durationToMillis(queue.serviceLevel.threshold)
            : defaultQueuePolicy.serviceLevel.thresholdMs,
          targetPercent: queue.serviceLevel.targetPercent || defaultQueuePolicy.serviceLevel.targetPercent,
          ...(queue.serviceLevel.dueSoonBefore ? { dueSoonMs: durationToMillis(queue.serviceLevel.dueSoonBefore) } : {}),
        }
      : { ...defaultQueuePolicy.serviceLevel },
    aging: aging
      ? {
          intervalMs: aging.interval ? durationToMillis(aging.interval) : defaultQueuePolicy.aging.intervalMs,
          increment: aging.increment,
          ceiling: aging.ceiling || defaultQueuePolicy.aging.ceiling,
        }
      : { ...defaultQueuePolicy.aging },
    escalationSteps: queue.escalationSteps.flatMap((step): EscalationPolicyStep[] => {
      const action = step.action;
      if (!action || !step.afterWait) return [];
      const afterWaitMs = durationToMillis(step.afterWait);
      return action.$case === 'relaxSkills'
        ? [{ afterWaitMs, action: { kind: 'relax-skills', ...action.value } }]
        : [
            {
              afterWaitMs,
              action: { kind: 'overflow', queueId: action.value.queueId, resetWaitTime: action.value.resetWaitTime },
            },
          ];
    }),
    affinity: {
      enabled: !queue.affinity?.disabled,
      windowMs: queue.affinity?.window ? durationToMillis(queue.affinity.window) : defaultQueuePolicy.affinity.windowMs,
      ownerWaitMs: queue.affinity?.ownerWait
        ? durationToMillis(queue.affinity.ownerWait)
        : defaultQueuePolicy.affinity.ownerWaitMs,
    },
    hours:
      queue.hours && calendar
        ? {
            calendar,
            whenClosed:
              queue.hours.whenClosed === OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW
                ? { kind: 'overflow', queueId: queue.hours.overflowQueueId }
                : { kind: 'wait' },
            agentsWorkOutOfHours: queue.hours.agentsWorkOutOfHours,
            businessTimeServiceLevel: queue.hours.serviceLevelBusinessTime,
            businessTimeEscalation: queue.hours.escalationBusinessTime,
          }
        : undefined,
  };
}

/** A QueuePolicy from partial settings (tests, benchmarks, services that keep their own model). */
export function createQueuePolicy(queueId: string, overrides: Partial<Omit<QueuePolicy, 'queueId'>> = {}): QueuePolicy {
  return {
    queueId,
    strategy: overrides.strategy ?? defaultQueuePolicy.strategy,
    requiredSkills: normalizeRequirements(overrides.requiredSkills ?? []),
    offerTimeoutMs: overrides.offerTimeoutMs ?? defaultQueuePolicy.offerTimeoutMs,
    serviceLevel: overrides.serviceLevel ?? { ...defaultQueuePolicy.serviceLevel },
    aging: overrides.aging ?? { ...defaultQueuePolicy.aging },
    escalationSteps: overrides.escalationSteps ?? [],
    affinity: overrides.affinity ?? { ...defaultQueuePolicy.affinity },
    hours: overrides.hours,
  };
}

/** True when the queue is open at `at`: it has no calendar, or its calendar is open then. */
export function isQueueOpen(policy: QueuePolicy, at: number): boolean {
  return !policy.hours || isOpenAt(policy.hours.calendar, at);
}

/**
 * Validates a queue as given to CreateQueue/UpdateQueue. Field paths are proto names under
 * `fieldPrefix` (e.g. "queue"). `queueId` (the queue's own id) lets overflow to itself be refused.
 */
export function validateQueue(queue: Queue, options: { fieldPrefix?: string; queueId?: string } = {}): FieldViolation[] {
  const v = new Violations(options.fieldPrefix);
  v.text('display_name', queue.displayName, { min: 1, max: 200 });
  v.text('description', queue.description, { max: 1000 });
  if (!(queue.strategy in strategyNames)) v.add('strategy', 'is not a known strategy');
  v.skills('required_skills', queue.requiredSkills, 20);
  v.duration('offer_timeout', queue.offerTimeout, 10 * SECOND, 15 * MINUTE, 'from 10s to 15m');
  if (queue.serviceLevel) {
    if (!queue.serviceLevel.threshold) v.add('service_level.threshold', 'is required when service_level is set');
    v.duration('service_level.threshold', queue.serviceLevel.threshold, MINUTE, 7 * DAY, 'from 1m to 7d');
    v.integer('service_level.target_percent', queue.serviceLevel.targetPercent, 0, 100);
    const thresholdMs = queue.serviceLevel.threshold ? durationToMillis(queue.serviceLevel.threshold) : 7 * DAY;
    v.duration(
      'service_level.due_soon_before',
      queue.serviceLevel.dueSoonBefore,
      MINUTE,
      thresholdMs,
      'from 1m to the threshold',
    );
  }
  if (queue.aging) {
    if (!queue.aging.interval) v.add('aging.interval', 'is required when aging is set');
    v.duration('aging.interval', queue.aging.interval, 10 * SECOND, DAY, 'from 10s to 24h');
    v.integer('aging.increment', queue.aging.increment, 0, 1000);
    v.integer('aging.ceiling', queue.aging.ceiling, 0, 1000);
  }
  if (v.count('escalation_steps', queue.escalationSteps, 10)) {
    let previous = -1;
    queue.escalationSteps.forEach((step, index) => {
      const field = `escalation_steps[${index}]`;
      if (!step.afterWait) v.add(`${field}.after_wait`, 'is required');
      else {
        v.duration(`${field}.after_wait`, step.afterWait, MINUTE, 30 * DAY, 'from 1m to 30d');
        const ms = durationToMillis(step.afterWait);
        if (ms <= previous) v.add(`${field}.after_wait`, 'must be longer than the previous step’s');
        previous = ms;
      }
      const action = step.action;
      if (!action) v.add(`${field}.action`, 'is required: relax_skills or overflow');
      else if (action.$case === 'relaxSkills') {
        const relax = action.value;
        if (v.count(`${field}.relax_skills.drop_skills`, relax.dropSkills, 20)) {
          relax.dropSkills.forEach((skill, i) => {
            if (!isResourceId(skill)) v.add(`${field}.relax_skills.drop_skills[${i}]`, 'is not a skill id');
          });
        }
        v.integer(`${field}.relax_skills.lower_min_level_by`, relax.lowerMinLevelBy, 0, 9);
        if (!relax.dropAll && relax.dropSkills.length === 0 && relax.lowerMinLevelBy === 0) {
          v.add(`${field}.relax_skills`, 'relaxes nothing: set drop_all, drop_skills or lower_min_level_by');
        }
      } else {
        const target = action.value.queueId;
        if (!isResourceId(target)) v.add(`${field}.overflow.queue_id`, 'is required: a queue id');
        else if (options.queueId !== undefined && target === options.queueId)
          v.add(`${field}.overflow.queue_id`, 'must be another queue');
      }
    });
  }
  if (queue.affinity) {
    v.duration('affinity.window', queue.affinity.window, 0, 30 * DAY, 'from 0s to 30d');
    v.duration('affinity.owner_wait', queue.affinity.ownerWait, 0, HOUR, 'from 0s to 1h');
  }
  if (queue.hours) {
    const hours = queue.hours;
    if (!isResourceId(hours.calendarId)) v.add('hours.calendar_id', 'is required: a calendar id');
    if (!(hours.whenClosed in OutOfHoursMode) || hours.whenClosed === OutOfHoursMode.UNRECOGNIZED)
      v.add('hours.when_closed', 'is not a known out-of-hours mode');
    if (hours.whenClosed === OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW) {
      if (!isResourceId(hours.overflowQueueId)) v.add('hours.overflow_queue_id', 'is required with OVERFLOW: a queue id');
      else if (options.queueId !== undefined && hours.overflowQueueId === options.queueId)
        v.add('hours.overflow_queue_id', 'must be another queue');
    } else if (hours.overflowQueueId) v.add('hours.overflow_queue_id', 'is only allowed with OUT_OF_HOURS_MODE_OVERFLOW');
  }
  if (queue.acknowledgement) checkAcknowledgement(v, queue.acknowledgement);
  if (queue.alertThresholds) {
    v.integer('alert_thresholds.waiting_count', queue.alertThresholds.waitingCount, 0, 1_000_000);
    v.duration('alert_thresholds.longest_wait', queue.alertThresholds.longestWait, MINUTE, 30 * DAY, 'from 1m to 30d');
  }
  return v.list;
}

/** Checks acknowledgement settings (a queue's or a mailbox's) into `v`, under `acknowledgement.`. */
export function checkAcknowledgement(v: Violations, ack: QueueAcknowledgement): void {
  if (ack.enabled && !isResourceId(ack.templateId))
    v.add('acknowledgement.template_id', 'is required when enabled: a template id');
  else if (ack.templateId && !isResourceId(ack.templateId)) v.add('acknowledgement.template_id', 'is not a template id');
  if (ack.outOfHoursTemplateId && !isResourceId(ack.outOfHoursTemplateId))
    v.add('acknowledgement.out_of_hours_template_id', 'is not a template id');
  if (ack.period) v.duration('acknowledgement.period', ack.period, 60_000, 30 * DAY, 'from 1m to 30d');
  if (ack.referencePrefix && !/^[A-Z]{2,8}$/.test(ack.referencePrefix))
    v.add('acknowledgement.reference_prefix', 'must be 2-8 capital letters A-Z');
}

/**
 * Effective priority of an interaction waiting since `queuedAt` (PriorityAging in the proto):
 * min(ceiling, priority + increment × floor(wait / interval)). Increment 0 disables aging.
 */
export function effectivePriority(aging: QueuePolicy['aging'], priority: number, queuedAt: number, now: number): number {
  if (aging.increment <= 0) return priority;
  const steps = Math.floor(Math.max(0, now - queuedAt) / aging.intervalMs);
  return Math.min(aging.ceiling, priority + aging.increment * steps);
}

/**
 * When the queue's service-level target is missed if nobody accepts: queued_at + threshold, or,
 * when the queue counts business time, the instant the threshold of open time has passed (wall
 * clock again when the calendar does not open within its search window).
 */
export function serviceLevelDueAt(policy: QueuePolicy, queuedAt: number): number {
  const wallClock = queuedAt + policy.serviceLevel.thresholdMs;
  if (!policy.hours?.businessTimeServiceLevel) return wallClock;
  return addBusinessTime(policy.hours.calendar, queuedAt, policy.serviceLevel.thresholdMs) ?? wallClock;
}

/**
 * When an escalation step with `afterWaitMs` becomes due for an interaction that entered the queue
 * at `enteredQueueAt`: enteredQueueAt + afterWaitMs, or, when the queue counts escalations in
 * business time, the instant `afterWaitMs` of open time has passed (wall clock again when the
 * calendar does not open within its search window).
 */
export function escalationDueAt(policy: QueuePolicy, enteredQueueAt: number, afterWaitMs: number): number {
  const wallClock = enteredQueueAt + afterWaitMs;
  if (!policy.hours?.businessTimeEscalation) return wallClock;
  return addBusinessTime(policy.hours.calendar, enteredQueueAt, afterWaitMs) ?? wallClock;
}

/** How long before its due time an unanswered interaction of the queue is due soon: as configured, else threshold / 4, at most 1h. */
export function slaDueSoonMs(policy: QueuePolicy): number {
  return policy.serviceLevel.dueSoonMs ?? Math.min(policy.serviceLevel.thresholdMs / 4, HOUR);
}
