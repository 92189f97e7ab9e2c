import { DateTime } from 'luxon';
import { compileCalendar } from './business-calendar';
import { elapsedTimes, firstResponseDue, nextSlaChangeAt, slaState } from './sla-clock';

const HOUR = 3_600_000;
const at = (local: string): number => DateTime.fromISO(local, { zone: 'Europe/Berlin' }).toMillis();
const office = compileCalendar({
  timeZone: 'Europe/Berlin',
  weeklyHours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, ranges: [{ start: '09:00', end: '17:00' }] })),
  holidays: [{ startDate: '2026-12-25' }],
  exceptions: [],
});

describe('SLA clock', () => {
  it('gives both due times: 4 business hours from Friday 15:00 is Monday 11:00, 4 wall-clock hours is Friday 19:00', () => {
    const due = firstResponseDue({ receivedAt: at('2026-12-04T15:00'), targetMs: 4 * HOUR, clock: 'business', calendar: office });
    expect(due).toEqual({
      dueAt: at('2026-12-07T11:00'),
      clock: 'business',
      wallClockDueAt: at('2026-12-04T19:00'),
      businessDueAt: at('2026-12-07T11:00'),
    });
    const wall = firstResponseDue({
      receivedAt: at('2026-12-04T15:00'),
      targetMs: 4 * HOUR,
      clock: 'wall-clock',
      calendar: office,
    });
    expect(wall.dueAt).toBe(at('2026-12-04T19:00'));
    expect(wall.businessDueAt).toBe(at('2026-12-07T11:00'));
  });

  it('counts a target used up exactly at closing as due at the closing, and mail after hours from the next opening', () => {
    expect(
      firstResponseDue({ receivedAt: at('2026-12-07T13:00'), targetMs: 4 * HOUR, clock: 'business', calendar: office }).dueAt,
    ).toBe(at('2026-12-07T17:00'));
    expect(
      firstResponseDue({ receivedAt: at('2026-12-24T18:00'), targetMs: HOUR, clock: 'business', calendar: office }).dueAt,
    ).toBe(at('2026-12-28T10:00'));
  });

  it('uses the wall clock for a business clock without a calendar', () => {
    const due = firstResponseDue({ receivedAt: 1000, targetMs: HOUR, clock: 'business' });
    expect(due.dueAt).toBe(1000 + HOUR);
    expect(due.businessDueAt).toBeUndefined();
  });

  it('reports both waiting figures', () => {
    expect(elapsedTimes(office, at('2026-12-04T16:00'), at('2026-12-07T10:00'))).toEqual({
      wallClockMs: 66 * HOUR,
      businessMs: 2 * HOUR,
    });
    expect(elapsedTimes(undefined, 0, HOUR)).toEqual({ wallClockMs: HOUR, businessMs: HOUR });
  });

  it('moves from on-track to due-soon to breached, and an answer exactly at the due time meets it', () => {
    const dueAt = 10 * HOUR;
    const dueSoonMs = HOUR;
    expect(slaState({ dueAt, now: 8 * HOUR, dueSoonMs })).toBe('on-track');
    expect(slaState({ dueAt, now: 9 * HOUR, dueSoonMs })).toBe('due-soon');
    expect(slaState({ dueAt, now: dueAt, dueSoonMs })).toBe('due-soon');
    expect(slaState({ dueAt, now: dueAt + 1, dueSoonMs })).toBe('breached');
    expect(slaState({ dueAt, now: 20 * HOUR, dueSoonMs, firstRespondedAt: dueAt })).toBe('met');
    expect(slaState({ dueAt, now: 20 * HOUR, dueSoonMs, firstRespondedAt: dueAt + 1 })).toBe('missed');
    expect(nextSlaChangeAt(dueAt, 0, dueSoonMs)).toBe(9 * HOUR);
    expect(nextSlaChangeAt(dueAt, 9 * HOUR, dueSoonMs)).toBe(dueAt + 1);
    expect(nextSlaChangeAt(dueAt, dueAt + 1, dueSoonMs)).toBeUndefined();
  });
});
