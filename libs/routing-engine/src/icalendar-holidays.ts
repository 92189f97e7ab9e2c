import ICAL from 'ical.js';
import type { CalendarHoliday } from './business-calendar';
import { calendarLimits } from './business-calendar';
import { RoutingValidationError } from './errors';

/** Import limits: the text a caller may pass and how many holidays it may yield. */
const icalendarImportLimits = { maxBytes: 1_000_000, maxHolidays: calendarLimits.holidays } as const;

export interface ICalendarHolidayImport {
  holidays: CalendarHoliday[];
  /** Events that did not become holidays (timed events, recurrences without an end), with why. */
  skipped: { uid: string; summary: string; reason: string }[];
}

/** ical.js Time of an all-day (DATE) value → "YYYY-MM-DD". */
const isoDate = (time: ICAL.Time): string =>
  `${String(time.year).padStart(4, '0')}-${String(time.month).padStart(2, '0')}-${String(time.day).padStart(2, '0')}`;

/**
 * Holidays from an iCalendar (RFC 5545) text, parsed with ical.js (pure JS, no I/O): each all-day
 * VEVENT becomes a holiday from DTSTART to the day before DTEND (DTEND is exclusive; a one-day
 * event may omit it). Recurring all-day events (RRULE, e.g. FREQ=YEARLY) are expanded for the
 * local dates from `fromDate` to `toDate` inclusive. Timed events are skipped, with the reason,
 * as a holiday closes whole days. Malformed text, or more than `maxHolidays` holidays, throws
 * `RoutingValidationError` on `field`.
 */
export function importICalendarHolidays(
  text: string,
  window: { fromDate: string; toDate: string },
  options: { field?: string } = {},
): ICalendarHolidayImport {
  const field = options.field ?? 'icalendar';
  const invalid = (message: string): RoutingValidationError => new RoutingValidationError([{ field, message }]);
  if (text.length > icalendarImportLimits.maxBytes)
    throw invalid(`must have at most ${icalendarImportLimits.maxBytes} characters`);
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(text) as unknown[]);
  } catch (error) {
    // The parser's message names a line of the input; keep it short.
    throw invalid(`is not valid iCalendar: ${String((error as Error).message).slice(0, 120)}`);
  }
  if (root.name !== 'vcalendar') throw invalid('is not valid iCalendar: no VCALENDAR');
  const holidays: CalendarHoliday[] = [];
  const skipped: ICalendarHolidayImport['skipped'] = [];
  const add = (holiday: CalendarHoliday): void => {
    if (holidays.length >= icalendarImportLimits.maxHolidays)
      throw invalid(`yields more than ${icalendarImportLimits.maxHolidays} holidays: narrow the date window`);
    holidays.push(holiday);
  };
  for (const component of root.getAllSubcomponents('vevent')) {
    const event = new ICAL.Event(component);
    const uid = (event.uid ?? '').slice(0, 200);
    const summary = (event.summary ?? '').slice(0, calendarLimits.nameLength);
    const start = event.startDate;
    if (!start) {
      skipped.push({ uid, summary, reason: 'no DTSTART' });
      continue;
    }
    if (!start.isDate) {
      skipped.push({ uid, summary, reason: 'timed event: a holiday closes whole days' });
      continue;
    }
    // Length in days; DTEND is exclusive and may be missing (one day).
    const end = event.endDate;
    const days = end && end.isDate ? Math.max(1, end.subtractDate(start).toSeconds() / 86_400) : 1;
    const toHoliday = (first: ICAL.Time): CalendarHoliday => {
      const last = first.clone();
      last.adjust(days - 1, 0, 0, 0);
      return { name: summary, startDate: isoDate(first), endDate: isoDate(last) };
    };
    if (!event.isRecurring()) {
      const holiday = toHoliday(start);
      if (holiday.startDate <= window.toDate && (holiday.endDate ?? holiday.startDate) >= window.fromDate) add(holiday);
      continue;
    }
    const iterator = event.iterator();
    let guard = 0;
    for (let next = iterator.next(); next; next = iterator.next()) {
      if (++guard > 10_000) {
        skipped.push({ uid, summary, reason: 'recurrence expands to too many dates' });
        break;
      }
      const date = isoDate(next);
      if (date > window.toDate) break;
      const holiday = toHoliday(next);
      if ((holiday.endDate ?? date) >= window.fromDate) add(holiday);
    }
  }
  return { holidays, skipped };
}
