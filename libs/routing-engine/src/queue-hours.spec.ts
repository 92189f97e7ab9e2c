import { AgentPresence, OutOfHoursMode, Queue } from '@mailroute/contracts';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { planAssignments, planAssignmentsNaive, type AssignmentInput } from './assignment';
import { compileCalendar, isOpenAt, nextClosing } from './business-calendar';
import type { AgentSnapshot, WaitingInteraction } from './model';
import {
  createQueuePolicy,
  escalationDueAt,
  serviceLevelDueAt,
  toQueuePolicy,
  validateQueue,
  type QueueHoursPolicy,
  type QueuePolicy,
} from './queue-policy';

const MINUTE = 60_000;
const at = (local: string): number => DateTime.fromISO(local, { zone: 'Europe/Berlin' }).toMillis();
const weekdays9to17 = compileCalendar({
  timeZone: 'Europe/Berlin',
  weeklyHours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, ranges: [{ start: '09:00', end: '17:00' }] })),
  holidays: [],
  exceptions: [],
});
const evenings = compileCalendar({
  timeZone: 'Europe/Berlin',
  weeklyHours: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, ranges: [{ start: '17:00', end: '23:00' }] })),
  holidays: [],
  exceptions: [],
});

const agent = (agentId: string, queueIds: string[]): AgentSnapshot => ({
  agentId,
  enabled: true,
  presence: AgentPresence.AGENT_PRESENCE_AVAILABLE,
  capacity: 3,
  activeInteractions: 0,
  pendingOffers: 0,
  skills: {},
  queueIds,
});

const waiting = (interactionId: string, queueId: string, queuedAt: number): WaitingInteraction => ({
  interactionId,
  queueId,
  priority: 100,
  requiredSkills: [],
  queuedAt,
  enteredQueueAt: queuedAt,
  escalationStepsApplied: 0,
});

const hours = (overrides: Partial<QueueHoursPolicy> = {}): QueueHoursPolicy => ({
  calendar: weekdays9to17,
  whenClosed: { kind: 'wait' },
  agentsWorkOutOfHours: false,
  ...overrides,
});

function bothPlanners(input: AssignmentInput) {
  const plan = planAssignments(input);
  expect(planAssignmentsNaive(input)).toEqual(plan);
  return plan;
}

describe('queue business hours in the assignment step', () => {
  const agents = [agent('ann', ['support']), agent('bob', ['night'])];

  it('offers nothing from a closed queue and plans again at its opening', () => {
    const now = at('2026-12-07T18:00');
    const plan = bothPlanners({
      now,
      queues: [createQueuePolicy('support', { hours: hours() })],
      agents,
      waiting: [waiting('late-mail', 'support', now - MINUTE)],
    });
    expect(plan.offers).toEqual([]);
    expect(plan.closedQueue).toEqual(['late-mail']);
    expect(plan.nextWakeAt).toBe(at('2026-12-08T09:00'));
    const opened = bothPlanners({
      now: at('2026-12-08T09:00'),
      queues: [createQueuePolicy('support', { hours: hours() })],
      agents,
      waiting: [waiting('late-mail', 'support', now - MINUTE)],
    });
    expect(opened.offers.map((offer) => [offer.interactionId, offer.agentId])).toEqual([['late-mail', 'ann']]);
  });

  it('offers out of hours when the queue lets its agents work then', () => {
    const now = at('2026-12-07T18:00');
    const plan = bothPlanners({
      now,
      queues: [createQueuePolicy('support', { hours: hours({ agentsWorkOutOfHours: true }) })],
      agents,
      waiting: [waiting('late-mail', 'support', now - MINUTE)],
    });
    expect(plan.offers.map((offer) => offer.agentId)).toEqual(['ann']);
    expect(plan.closedQueue).toEqual([]);
  });

  it('overflows out of hours exactly at the closing instant, to a queue that is open, keeping the wait', () => {
    const queues = [
      createQueuePolicy('support', { hours: hours({ whenClosed: { kind: 'overflow', queueId: 'night' } }) }),
      createQueuePolicy('night', { hours: hours({ calendar: evenings }) }),
    ];
    const queuedAt = at('2026-12-07T16:00');
    const input = { queues, agents: [agent('bob', ['night'])], waiting: [waiting('mail', 'support', queuedAt)] };
    const before = bothPlanners({ ...input, now: at('2026-12-07T17:00') - 1 });
    expect(before.escalations).toEqual([]);
    expect(before.offers).toEqual([]); // bob is not a member of support
    expect(before.nextWakeAt).toBe(at('2026-12-07T17:00'));
    const closing = bothPlanners({ ...input, now: at('2026-12-07T17:00') });
    expect(closing.escalations).toEqual([
      {
        kind: 'out-of-hours-overflow',
        interactionId: 'mail',
        fromQueueId: 'support',
        toQueueId: 'night',
        requiredSkills: [],
        queuedAt,
        enteredQueueAt: at('2026-12-07T17:00'),
        escalationStepsApplied: 0,
      },
    ]);
    expect(closing.offers.map((offer) => [offer.agentId, offer.queueId])).toEqual([['bob', 'night']]);
  });

  it('counts escalation after_wait in business time when the queue says so: overnight and a weekend do not count', () => {
    const relaxAfter2h = {
      afterWaitMs: 120 * MINUTE,
      action: { kind: 'relax-skills' as const, dropAll: true, dropSkills: [], lowerMinLevelBy: 0 },
    };
    const business = createQueuePolicy('support', {
      escalationSteps: [relaxAfter2h],
      hours: hours({ agentsWorkOutOfHours: true, businessTimeEscalation: true }),
    });
    const wallClock = createQueuePolicy('support', {
      escalationSteps: [relaxAfter2h],
      hours: hours({ agentsWorkOutOfHours: true }),
    });
    // Friday 16:00 + 2 business hours (09-17 on weekdays) = Monday 10:00; the wall clock says Friday 18:00.
    const enteredAt = at('2026-12-04T16:00');
    const input = { agents: [], waiting: [waiting('mail', 'support', enteredAt)] };
    const friday = bothPlanners({ ...input, queues: [business], now: at('2026-12-04T18:00') });
    expect(friday.escalations).toEqual([]);
    expect(friday.nextWakeAt).toBe(at('2026-12-07T10:00'));
    expect(bothPlanners({ ...input, queues: [wallClock], now: at('2026-12-04T18:00') }).escalations).toHaveLength(1);
    expect(bothPlanners({ ...input, queues: [business], now: at('2026-12-07T10:00') - 1 }).escalations).toEqual([]);
    expect(bothPlanners({ ...input, queues: [business], now: at('2026-12-07T10:00') }).escalations).toMatchObject([
      { kind: 'relax-skills', stepIndex: 0, dueAt: at('2026-12-07T10:00') },
    ]);
    // Across the end of summer time (Sunday 25 October 2026): Friday 16:00 CEST + 2 business hours = Monday 10:00 CET,
    // 67 wall-clock hours later (one more than the local times suggest).
    const beforeDst = at('2026-10-23T16:00');
    expect(escalationDueAt(business, beforeDst, 120 * MINUTE)).toBe(at('2026-10-26T10:00'));
    expect(at('2026-10-26T10:00') - beforeDst).toBe(67 * 60 * MINUTE);
    // A holiday on the Monday moves it to Tuesday.
    const withHoliday = createQueuePolicy('support', {
      escalationSteps: [relaxAfter2h],
      hours: hours({
        businessTimeEscalation: true,
        calendar: compileCalendar({
          timeZone: 'Europe/Berlin',
          weeklyHours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, ranges: [{ start: '09:00', end: '17:00' }] })),
          holidays: [{ startDate: '2026-12-07', name: 'closed' }],
          exceptions: [],
        }),
      }),
    });
    expect(escalationDueAt(withHoliday, enteredAt, 120 * MINUTE)).toBe(at('2026-12-08T10:00'));
  });

  it("counts the overflow target queue's first escalation step in its own business time", () => {
    const queues = [
      createQueuePolicy('support', {
        escalationSteps: [{ afterWaitMs: 30 * MINUTE, action: { kind: 'overflow', queueId: 'tier2', resetWaitTime: false } }],
      }),
      createQueuePolicy('tier2', {
        escalationSteps: [
          { afterWaitMs: 60 * MINUTE, action: { kind: 'relax-skills', dropAll: true, dropSkills: [], lowerMinLevelBy: 0 } },
        ],
        hours: hours({ agentsWorkOutOfHours: true, businessTimeEscalation: true }),
      }),
    ];
    // Overflows Friday 16:30 into tier2, whose first step is 1 business hour later: Friday 17:00 closes, so Monday 09:30.
    const plan = bothPlanners({
      queues,
      agents: [],
      waiting: [waiting('mail', 'support', at('2026-12-04T16:00'))],
      now: at('2026-12-04T16:30'),
    });
    expect(plan.escalations).toMatchObject([{ kind: 'overflow', toQueueId: 'tier2' }]);
    expect(plan.nextWakeAt).toBe(at('2026-12-07T09:30'));
  });

  it('waits when the overflow queue is closed too, and names an overflow to an unknown queue', () => {
    const now = at('2026-12-08T03:00');
    const closedBoth = bothPlanners({
      now,
      queues: [
        createQueuePolicy('support', { hours: hours({ whenClosed: { kind: 'overflow', queueId: 'night' } }) }),
        createQueuePolicy('night', { hours: hours({ calendar: evenings }) }),
      ],
      agents,
      waiting: [waiting('mail', 'support', now)],
    });
    expect(closedBoth.escalations).toEqual([]);
    expect(closedBoth.offers).toEqual([]);
    expect(closedBoth.nextWakeAt).toBe(at('2026-12-08T09:00'));
    const unknown = bothPlanners({
      now,
      queues: [createQueuePolicy('support', { hours: hours({ whenClosed: { kind: 'overflow', queueId: 'gone' } }) })],
      agents,
      waiting: [waiting('mail', 'support', now)],
    });
    expect(unknown.blockedEscalations).toEqual([
      { interactionId: 'mail', message: 'queue support overflows out of hours to unknown queue gone' },
    ]);
    expect(unknown.offers).toEqual([]);
  });

  it('never offers an interaction of a closed queue to an agent unless the queue allows out-of-hours work (property)', () => {
    const start = at('2026-12-04T00:00');
    fc.assert(
      fc.property(
        fc.integer({ min: start, max: start + 4 * 24 * 60 * MINUTE }),
        fc.array(
          fc.record({ queue: fc.constantFrom('support', 'night', 'always'), ageMinutes: fc.integer({ min: 0, max: 600 }) }),
          {
            maxLength: 12,
          },
        ),
        fc.boolean(),
        fc.constantFrom<'wait' | 'overflow'>('wait', 'overflow'),
        (now, mails, allowOutOfHours, whenClosed) => {
          const queues: QueuePolicy[] = [
            createQueuePolicy('support', {
              hours: hours({
                agentsWorkOutOfHours: allowOutOfHours,
                whenClosed: whenClosed === 'wait' ? { kind: 'wait' } : { kind: 'overflow', queueId: 'night' },
              }),
            }),
            createQueuePolicy('night', { hours: hours({ calendar: evenings }) }),
            createQueuePolicy('always'),
          ];
          const byId = new Map(queues.map((queue) => [queue.queueId, queue]));
          const plan = bothPlanners({
            now,
            queues,
            agents: [agent('ann', ['support', 'always']), agent('bob', ['night', 'support']), agent('cid', ['always'])],
            waiting: mails.map((mail, index) => waiting(`m${index}`, mail.queue, now - mail.ageMinutes * MINUTE)),
          });
          for (const offer of plan.offers) {
            const queue = byId.get(offer.queueId) as QueuePolicy;
            const open = !queue.hours || isOpenAt(queue.hours.calendar, now);
            if (!open) expect(queue.hours?.agentsWorkOutOfHours).toBe(true);
          }
          for (const escalation of plan.escalations) {
            if (escalation.kind !== 'out-of-hours-overflow') continue;
            expect(isOpenAt(weekdays9to17, now)).toBe(false);
            expect(isOpenAt(evenings, now)).toBe(true);
          }
          // Waiting mail in an open overflowing queue wakes the planner no later than its closing.
          const supportOpen = isOpenAt(weekdays9to17, now);
          if (whenClosed === 'overflow' && supportOpen && mails.some((mail) => mail.queue === 'support'))
            expect(plan.nextWakeAt).toBeLessThanOrEqual(nextClosing(weekdays9to17, now) as number);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('queue hours from the proto Queue', () => {
  it('validates hours naming each field, and resolves them with the calendar, business-time service level included', () => {
    const fields = (hours: Partial<Queue['hours']>) =>
      validateQueue(Queue.fromPartial({ displayName: 'Day', hours }), { fieldPrefix: 'queue', queueId: 'day' }).map(
        (v) => v.field,
      );
    expect(fields({ calendarId: '' })).toEqual(['queue.hours.calendar_id']);
    expect(fields({ calendarId: 'office', whenClosed: OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW })).toEqual([
      'queue.hours.overflow_queue_id',
    ]);
    expect(
      fields({ calendarId: 'office', whenClosed: OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW, overflowQueueId: 'day' }),
    ).toEqual(['queue.hours.overflow_queue_id']);
    expect(fields({ calendarId: 'office', overflowQueueId: 'night' })).toEqual(['queue.hours.overflow_queue_id']);
    expect(fields({ calendarId: 'office', whenClosed: 7 as OutOfHoursMode })).toEqual(['queue.hours.when_closed']);

    const queue = Queue.fromPartial({
      queueId: 'day',
      displayName: 'Day',
      serviceLevel: { threshold: { seconds: 4 * 3600, nanos: 0 }, targetPercent: 80 },
      hours: {
        calendarId: 'office',
        whenClosed: OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW,
        overflowQueueId: 'night',
        serviceLevelBusinessTime: true,
        escalationBusinessTime: true,
      },
    });
    const policy = toQueuePolicy(queue, new Map([['office', weekdays9to17]]));
    expect(policy.hours).toMatchObject({
      whenClosed: { kind: 'overflow', queueId: 'night' },
      agentsWorkOutOfHours: false,
      businessTimeEscalation: true,
    });
    // Friday 15:00 + 4 business hours (09-17 on weekdays) = Monday 11:00.
    expect(serviceLevelDueAt(policy, at('2026-12-04T15:00'))).toBe(at('2026-12-07T11:00'));
    const wallClock = toQueuePolicy(
      { ...queue, hours: { ...(queue.hours as NonNullable<Queue['hours']>), serviceLevelBusinessTime: false } },
      new Map([['office', weekdays9to17]]),
    );
    expect(serviceLevelDueAt(wallClock, at('2026-12-04T15:00'))).toBe(at('2026-12-04T19:00'));
    // A calendar the service did not pass: no hours (always open).
    expect(toQueuePolicy(queue).hours).toBeUndefined();
  });
});
