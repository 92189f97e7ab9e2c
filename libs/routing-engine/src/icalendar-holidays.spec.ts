import { compileCalendar, isOpenAt } from './business-calendar';
import { RoutingValidationError } from './errors';
import { importICalendarHolidays } from './icalendar-holidays';
import { DateTime } from 'luxon';

const ics = (...events: string[]): string =>
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//mailroute//test//EN', ...events, 'END:VCALENDAR'].join('\r\n');

const event = (...lines: string[]): string => ['BEGIN:VEVENT', ...lines, 'END:VEVENT'].join('\r\n');

describe('iCalendar holiday import', () => {
  it('turns all-day events into holidays, DTEND being exclusive, and skips timed events with the reason', () => {
    const result = importICalendarHolidays(
      ics(
        event('UID:one', 'SUMMARY:Unity Day', 'DTSTART;VALUE=DATE:20261003', 'DTEND;VALUE=DATE:20261004'),
        event('UID:two', 'SUMMARY:Christmas', 'DTSTART;VALUE=DATE:20261224', 'DTEND;VALUE=DATE:20261227'),
        event('UID:three', 'SUMMARY:No end', 'DTSTART;VALUE=DATE:20261231'),
        event('UID:four', 'SUMMARY:Team meeting', 'DTSTART:20261207T090000Z', 'DTEND:20261207T100000Z'),
      ),
      { fromDate: '2026-01-01', toDate: '2026-12-31' },
    );
    expect(result.holidays).toEqual([
      { name: 'Unity Day', startDate: '2026-10-03', endDate: '2026-10-03' },
      { name: 'Christmas', startDate: '2026-12-24', endDate: '2026-12-26' },
      { name: 'No end', startDate: '2026-12-31', endDate: '2026-12-31' },
    ]);
    expect(result.skipped).toEqual([
      { uid: 'four', summary: 'Team meeting', reason: 'timed event: a holiday closes whole days' },
    ]);
  });

  it('expands a yearly recurrence within the date window only', () => {
    const result = importICalendarHolidays(
      ics(event('UID:ny', 'SUMMARY:New Year', 'DTSTART;VALUE=DATE:20200101', 'DTEND;VALUE=DATE:20200102', 'RRULE:FREQ=YEARLY')),
      { fromDate: '2026-01-01', toDate: '2028-12-31' },
    );
    expect(result.holidays.map((holiday) => holiday.startDate)).toEqual(['2026-01-01', '2027-01-01', '2028-01-01']);
  });

  it('gives holidays the calendar closes on', () => {
    const { holidays } = importICalendarHolidays(
      ics(event('UID:x', 'SUMMARY:Closed', 'DTSTART;VALUE=DATE:20261207', 'DTEND;VALUE=DATE:20261208')),
      { fromDate: '2026-01-01', toDate: '2026-12-31' },
    );
    const calendar = compileCalendar({
      timeZone: 'Europe/Berlin',
      weeklyHours: [{ weekday: 1, ranges: [{ start: '09:00', end: '17:00' }] }],
      holidays,
      exceptions: [],
    });
    expect(isOpenAt(calendar, DateTime.fromISO('2026-12-07T10:00', { zone: 'Europe/Berlin' }).toMillis())).toBe(false);
    expect(isOpenAt(calendar, DateTime.fromISO('2026-12-14T10:00', { zone: 'Europe/Berlin' }).toMillis())).toBe(true);
  });

  it('refuses malformed text and too many holidays on the named field', () => {
    expect(() =>
      importICalendarHolidays(
        'BEGIN:VCALENDAR\r\nnot a line',
        { fromDate: '2026-01-01', toDate: '2026-12-31' },
        { field: 'ics' },
      ),
    ).toThrow(expect.objectContaining({ field: 'ics', code: 'invalid-argument' }));
    const daily = ics(event('UID:d', 'SUMMARY:Daily', 'DTSTART;VALUE=DATE:20200101', 'RRULE:FREQ=DAILY'));
    expect(() => importICalendarHolidays(daily, { fromDate: '2020-01-01', toDate: '2029-12-31' })).toThrow(
      RoutingValidationError,
    );
  });
});
