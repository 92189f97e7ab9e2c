import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  addBusinessTime,
  businessTimeBetween,
  compileCalendar,
  hoursOnDay,
  isOpenAt,
  localDateOf,
  nextClosing,
  nextOpening,
  validateCalendar,
  type CalendarDefinition,
} from './business-calendar';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const BERLIN = 'Europe/Berlin';

/** A local wall time in a zone → epoch ms (the test's own conversion, Luxon as the engine uses it). */
const at = (local: string, zone = BERLIN): number => {
  const time = DateTime.fromISO(local, { zone });
  if (!time.isValid) throw new Error(`bad test time ${local}`);
  return time.toMillis();
};

const weekdays = (ranges: { start: string; end: string }[], days = [1, 2, 3, 4, 5]) =>
  days.map((weekday) => ({ weekday, ranges }));

const officeHours = (overrides: Partial<CalendarDefinition> = {}): CalendarDefinition => ({
  timeZone: BERLIN,
  weeklyHours: weekdays([
    { start: '08:00', end: '12:00' },
    { start: '13:00', end: '17:00' },
  ]),
  holidays: [],
  exceptions: [],
  ...overrides,
});

describe('business calendar', () => {
  it('is open from an opening instant up to, not including, the closing instant, with several ranges a day', () => {
    const calendar = compileCalendar(officeHours());
    expect(isOpenAt(calendar, at('2026-12-07T07:59:59.999'))).toBe(false);
    expect(isOpenAt(calendar, at('2026-12-07T08:00'))).toBe(true);
    expect(isOpenAt(calendar, at('2026-12-07T11:59'))).toBe(true);
    expect(isOpenAt(calendar, at('2026-12-07T12:00'))).toBe(false);
    expect(isOpenAt(calendar, at('2026-12-07T13:00'))).toBe(true);
    expect(isOpenAt(calendar, at('2026-12-07T17:00'))).toBe(false);
    expect(nextOpening(calendar, at('2026-12-07T12:30'))).toBe(at('2026-12-07T13:00'));
    expect(nextClosing(calendar, at('2026-12-07T09:00'))).toBe(at('2026-12-07T12:00'));
    expect(nextClosing(calendar, at('2026-12-07T12:30'))).toBe(at('2026-12-07T17:00'));
    expect(nextOpening(calendar, at('2026-12-07T09:00'))).toBe(at('2026-12-07T09:00'));
  });

  it('reads hours in the calendar zone, not in UTC', () => {
    const tokyo = compileCalendar(officeHours({ timeZone: 'Asia/Tokyo' }));
    // 08:30 in Tokyo is 23:30 UTC the day before.
    expect(isOpenAt(tokyo, Date.UTC(2026, 11, 6, 23, 30))).toBe(true);
    expect(localDateOf(tokyo, Date.UTC(2026, 11, 6, 23, 30))).toBe('2026-12-07');
  });

  it('skips a closed day between two open ones', () => {
    // Monday and Wednesday open, Tuesday closed.
    const calendar = compileCalendar(officeHours({ weeklyHours: weekdays([{ start: '09:00', end: '17:00' }], [1, 3]) }));
    expect(nextOpening(calendar, at('2026-12-07T17:00'))).toBe(at('2026-12-09T09:00'));
    expect(isOpenAt(calendar, at('2026-12-08T12:00'))).toBe(false);
    expect(addBusinessTime(calendar, at('2026-12-07T16:00'), 2 * HOUR)).toBe(at('2026-12-09T10:00'));
    expect(businessTimeBetween(calendar, at('2026-12-07T16:00'), at('2026-12-09T10:00'))).toBe(2 * HOUR);
  });

  it('counts business time right across the spring-forward change (Europe/Berlin, 29 March 2026)', () => {
    // Open every day 01:00-04:00: on the change night 02:00-03:00 does not exist, so that day has 2 hours.
    const nightly = compileCalendar(
      officeHours({ weeklyHours: weekdays([{ start: '01:00', end: '04:00' }], [1, 2, 3, 4, 5, 6, 7]) }),
    );
    expect(businessTimeBetween(nightly, at('2026-03-29T00:00'), at('2026-03-30T00:00'))).toBe(2 * HOUR);
    expect(businessTimeBetween(nightly, at('2026-03-28T00:00'), at('2026-03-29T00:00'))).toBe(3 * HOUR);
    // Office hours over the weekend: Friday 16:00 → Monday 10:00 is 3 business hours (16-17, 08-10), though the wall clock lost an hour.
    const office = compileCalendar(officeHours());
    const from = at('2026-03-27T16:00');
    const to = at('2026-03-30T10:00');
    expect(to - from).toBe(65 * HOUR);
    expect(businessTimeBetween(office, from, to)).toBe(3 * HOUR);
    expect(addBusinessTime(office, from, 3 * HOUR)).toBe(to);
  });

  it('counts business time right across the fall-back change (Europe/Berlin, 25 October 2026)', () => {
    const nightly = compileCalendar(
      officeHours({ weeklyHours: weekdays([{ start: '01:00', end: '04:00' }], [1, 2, 3, 4, 5, 6, 7]) }),
    );
    // 02:00-03:00 happens twice: that day has 4 open hours.
    expect(businessTimeBetween(nightly, at('2026-10-25T00:00'), at('2026-10-26T00:00'))).toBe(4 * HOUR);
    expect(nextClosing(nightly, at('2026-10-25T01:30'))).toBe(at('2026-10-25T04:00'));
    const allDay = compileCalendar(officeHours({ weeklyHours: weekdays([{ start: '00:00', end: '24:00' }], [7]) }));
    expect(businessTimeBetween(allDay, at('2026-10-25T00:00'), at('2026-10-26T00:00'))).toBe(25 * HOUR);
    expect(businessTimeBetween(allDay, at('2026-03-29T00:00'), at('2026-03-30T00:00'))).toBe(23 * HOUR);
  });

  it('spans DST in the southern hemisphere and in zones with half-hour offsets', () => {
    // Sydney leaves DST on Sunday 5 April 2026 (03:00 → 02:00); Lord Howe shifts by 30 minutes.
    const sydney = compileCalendar(officeHours({ timeZone: 'Australia/Sydney' }));
    expect(
      businessTimeBetween(sydney, at('2026-04-03T16:00', 'Australia/Sydney'), at('2026-04-06T09:00', 'Australia/Sydney')),
    ).toBe(2 * HOUR);
    const lordHowe = compileCalendar(
      officeHours({ timeZone: 'Australia/Lord_Howe', weeklyHours: weekdays([{ start: '00:00', end: '24:00' }], [7]) }),
    );
    expect(
      businessTimeBetween(lordHowe, at('2026-04-05T00:00', 'Australia/Lord_Howe'), at('2026-04-06T00:00', 'Australia/Lord_Howe')),
    ).toBe(24 * HOUR + 30 * MINUTE);
  });

  it('keeps a weekend holiday from touching the working days around it, and a holiday range closes every day in it', () => {
    const plain = compileCalendar(officeHours());
    const withSaturdayHoliday = compileCalendar(officeHours({ holidays: [{ name: 'Saturday fair', startDate: '2026-12-05' }] }));
    const friday = at('2026-12-04T16:00');
    const monday = at('2026-12-07T10:00');
    expect(businessTimeBetween(withSaturdayHoliday, friday, monday)).toBe(businessTimeBetween(plain, friday, monday));
    expect(businessTimeBetween(withSaturdayHoliday, friday, monday)).toBe(3 * HOUR);
    expect(nextOpening(withSaturdayHoliday, at('2026-12-04T17:00'))).toBe(at('2026-12-07T08:00'));

    const christmas = compileCalendar(
      officeHours({ holidays: [{ name: 'Christmas', startDate: '2026-12-24', endDate: '2026-12-28' }] }),
    );
    expect(isOpenAt(christmas, at('2026-12-24T09:00'))).toBe(false);
    expect(isOpenAt(christmas, at('2026-12-28T09:00'))).toBe(false);
    expect(nextOpening(christmas, at('2026-12-23T17:00'))).toBe(at('2026-12-29T08:00'));
    expect(hoursOnDay(christmas, '2026-12-28')).toEqual([]);
    expect(hoursOnDay(christmas, '2026-12-29')).toEqual([
      { start: '08:00', end: '12:00' },
      { start: '13:00', end: '17:00' },
    ]);
  });

  it('lets an exception open a holiday and close a day early', () => {
    const calendar = compileCalendar(
      officeHours({
        holidays: [{ startDate: '2026-12-24', endDate: '2026-12-26' }],
        exceptions: [
          { date: '2026-12-24', ranges: [{ start: '09:00', end: '12:00' }], note: 'open on Christmas Eve' },
          { date: '2026-12-31', ranges: [{ start: '08:00', end: '12:00' }], note: 'closes early' },
          { date: '2026-12-30', ranges: [] },
        ],
      }),
    );
    expect(isOpenAt(calendar, at('2026-12-24T10:00'))).toBe(true);
    expect(isOpenAt(calendar, at('2026-12-25T10:00'))).toBe(false);
    expect(isOpenAt(calendar, at('2026-12-30T10:00'))).toBe(false);
    expect(nextClosing(calendar, at('2026-12-31T09:00'))).toBe(at('2026-12-31T12:00'));
    expect(isOpenAt(calendar, at('2026-12-31T13:30'))).toBe(false);
  });

  it('merges a day open to 24:00 with the next open from 00:00 into one open period', () => {
    const calendar = compileCalendar(
      officeHours({
        weeklyHours: [
          { weekday: 1, ranges: [{ start: '20:00', end: '24:00' }] },
          { weekday: 2, ranges: [{ start: '00:00', end: '06:00' }] },
        ],
      }),
    );
    expect(nextClosing(calendar, at('2026-12-07T21:00'))).toBe(at('2026-12-08T06:00'));
    expect(isOpenAt(calendar, at('2026-12-08T00:00'))).toBe(true);
  });

  it('answers undefined for a calendar that never opens or never closes', () => {
    const never = compileCalendar(officeHours({ weeklyHours: [] }));
    expect(nextOpening(never, at('2026-12-07T09:00'))).toBeUndefined();
    expect(addBusinessTime(never, at('2026-12-07T09:00'), HOUR)).toBeUndefined();
    expect(businessTimeBetween(never, at('2026-12-07T09:00'), at('2026-12-14T09:00'))).toBe(0);
    const always = compileCalendar(
      officeHours({ weeklyHours: weekdays([{ start: '00:00', end: '24:00' }], [1, 2, 3, 4, 5, 6, 7]) }),
    );
    expect(nextClosing(always, at('2026-12-07T09:00'))).toBeUndefined();
    expect(addBusinessTime(always, at('2026-12-07T09:00'), 4 * HOUR)).toBe(at('2026-12-07T13:00'));
  });

  it('names each invalid field', () => {
    const violations = validateCalendar(
      {
        timeZone: 'Mars/Olympus',
        weeklyHours: [
          {
            weekday: 8,
            ranges: [
              { start: '9:00', end: '17:00' },
              { start: '18:00', end: '17:00' },
            ],
          },
          {
            weekday: 2,
            ranges: [
              { start: '09:00', end: '12:00' },
              { start: '11:00', end: '13:00' },
            ],
          },
          { weekday: 2, ranges: [{ start: '22:00', end: '24:01' }] },
        ],
        holidays: [{ startDate: '2026-02-30' }, { startDate: '2026-12-24', endDate: '2026-12-23' }],
        exceptions: [
          { date: '2026-12-24', ranges: [] },
          { date: '2026-12-24', ranges: [] },
        ],
      },
      { fieldPrefix: 'calendar' },
    );
    expect(violations.map((violation) => violation.field)).toEqual([
      'calendar.time_zone',
      'calendar.weekly_hours[0].weekday',
      'calendar.weekly_hours[0].ranges[0].start',
      'calendar.weekly_hours[0].ranges[1].end',
      'calendar.weekly_hours[1].ranges[1]',
      'calendar.weekly_hours[2].weekday',
      'calendar.weekly_hours[2].ranges[0].end',
      'calendar.holidays[0].start_date',
      'calendar.holidays[1].end_date',
      'calendar.exceptions[1].date',
    ]);
    expect(() => compileCalendar({ ...officeHours(), timeZone: '' })).toThrow(RangeError);
  });
});

describe('business calendar properties', () => {
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'];
  const time = (hour: number, minute: number) => `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
  // Up to three non-overlapping ranges a day, from sorted distinct quarter hours.
  const dayRanges = fc.uniqueArray(fc.integer({ min: 0, max: 96 }), { minLength: 0, maxLength: 6 }).map((points) => {
    const sorted = [...points].sort((a, b) => a - b);
    const ranges: { start: string; end: string }[] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) {
      const start = (sorted[i] as number) * 15;
      const end = (sorted[i + 1] as number) * 15;
      if (start < 1440)
        ranges.push({ start: time(Math.floor(start / 60), start % 60), end: time(Math.floor(end / 60), end % 60) });
    }
    return ranges;
  });
  const calendarArb = fc.record({
    timeZone: fc.constantFrom(...zones),
    weeklyHours: fc
      .tuple(...[1, 2, 3, 4, 5, 6, 7].map(() => dayRanges))
      .map((days) => days.map((ranges, i) => ({ weekday: i + 1, ranges }))),
    holidays: fc.array(
      fc.record({ day: fc.integer({ min: 0, max: 60 }), length: fc.integer({ min: 0, max: 3 }) }).map(({ day, length }) => {
        const first = DateTime.fromISO('2026-03-01', { zone: 'utc' }).plus({ days: day });
        return { startDate: first.toISODate() as string, endDate: first.plus({ days: length }).toISODate() as string };
      }),
      { maxLength: 4 },
    ),
    exceptions: fc.constant([]),
  });
  // Instants from 1 March to 30 April 2026: both hemispheres' DST changes fall in it.
  const instant = fc.integer({ min: Date.UTC(2026, 2, 1), max: Date.UTC(2026, 3, 30) });

  it('splits business time additively and open at t means the next opening is t', () => {
    fc.assert(
      fc.property(calendarArb, instant, instant, instant, (definition, a, b, c) => {
        const calendar = compileCalendar(definition);
        const [x, y, z] = [a, b, c].sort((p, q) => p - q) as [number, number, number];
        expect(businessTimeBetween(calendar, x, z)).toBe(
          businessTimeBetween(calendar, x, y) + businessTimeBetween(calendar, y, z),
        );
        expect(businessTimeBetween(calendar, x, z)).toBeLessThanOrEqual(z - x);
        expect(nextOpening(calendar, x) === x).toBe(isOpenAt(calendar, x));
      }),
      { numRuns: 100 },
    );
  });

  it('adds business time as the inverse of measuring it, and a closing ends a fully open period', () => {
    fc.assert(
      fc.property(calendarArb, instant, instant, (definition, a, b) => {
        const calendar = compileCalendar(definition);
        const [from, to] = a <= b ? [a, b] : [b, a];
        const open = businessTimeBetween(calendar, from, to);
        if (open > 0) {
          const due = addBusinessTime(calendar, from, open) as number;
          expect(due).toBeLessThanOrEqual(to);
          expect(businessTimeBetween(calendar, from, due)).toBe(open);
          expect(isOpenAt(calendar, due - 1)).toBe(true);
        }
        if (isOpenAt(calendar, from)) {
          const closing = nextClosing(calendar, from);
          if (closing !== undefined) {
            expect(businessTimeBetween(calendar, from, closing)).toBe(closing - from);
            expect(isOpenAt(calendar, closing)).toBe(false);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
