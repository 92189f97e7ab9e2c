import { addBusinessTime, businessTimeBetween, type BusinessCalendar } from './business-calendar';
import type { EpochMillis } from './model';

/** How a queue counts its first-response target: every hour, or only the hours its calendar is open. */
export type ServiceLevelClock = 'wall-clock' | 'business';

/** An interaction's first-response due time, with both figures. */
export interface FirstResponseDue {
  /** The due time by the queue's clock: `businessDueAt` for a business clock with a calendar, else `wallClockDueAt`. */
  dueAt: EpochMillis | undefined;
  clock: ServiceLevelClock;
  /** receivedAt + target. */
  wallClockDueAt: EpochMillis;
  /** When `target` of open time has passed since receivedAt; undefined without a calendar or when it does not open. */
  businessDueAt: EpochMillis | undefined;
}

/**
 * The first-response due time from a queue's target ("answered within 4 business hours"). With a
 * business clock and a calendar the target counts open time only: mail received after hours is due
 * `target` after the next opening; without a calendar the business clock is the wall clock.
 */
export function firstResponseDue(input: {
  receivedAt: EpochMillis;
  targetMs: number;
  clock: ServiceLevelClock;
  calendar?: BusinessCalendar | undefined;
}): FirstResponseDue {
  const wallClockDueAt = input.receivedAt + input.targetMs;
  const businessDueAt = input.calendar ? addBusinessTime(input.calendar, input.receivedAt, input.targetMs) : undefined;
  const dueAt = input.clock === 'business' && input.calendar ? businessDueAt : wallClockDueAt;
  return { dueAt, clock: input.clock, wallClockDueAt, businessDueAt };
}

/** A waiting or handling time, both ways: elapsed time, and the calendar's open time within it. */
export function elapsedTimes(
  calendar: BusinessCalendar | undefined,
  from: EpochMillis,
  to: EpochMillis,
): { wallClockMs: number; businessMs: number } {
  const wallClockMs = Math.max(0, to - from);
  return { wallClockMs, businessMs: calendar ? businessTimeBetween(calendar, from, to) : wallClockMs };
}

/**
 * Where an interaction stands against its first-response due time:
 * - `met` / `missed`: answered at or before / after `dueAt`;
 * - `breached`: not answered and `now > dueAt` (an answer exactly at `dueAt` meets it);
 * - `due-soon`: not answered and within `dueSoonMs` of `dueAt`;
 * - `on-track`: otherwise, and whenever there is no due time.
 */
export type SlaState = 'on-track' | 'due-soon' | 'breached' | 'met' | 'missed';

export function slaState(input: {
  dueAt: EpochMillis | undefined;
  now: EpochMillis;
  dueSoonMs: number;
  firstRespondedAt?: EpochMillis | undefined;
}): SlaState {
  const { dueAt, now, firstRespondedAt } = input;
  if (dueAt === undefined) return firstRespondedAt === undefined ? 'on-track' : 'met';
  if (firstRespondedAt !== undefined) return firstRespondedAt <= dueAt ? 'met' : 'missed';
  if (now > dueAt) return 'breached';
  return now >= dueAt - input.dueSoonMs ? 'due-soon' : 'on-track';
}

/** When the SLA state of an unanswered interaction changes next (due-soon starts, then the breach); undefined once breached. */
export function nextSlaChangeAt(dueAt: EpochMillis | undefined, now: EpochMillis, dueSoonMs: number): EpochMillis | undefined {
  if (dueAt === undefined || now > dueAt) return undefined;
  const soon = dueAt - dueSoonMs;
  return now < soon ? soon : dueAt + 1;
}
