import type { Calendar } from '@mailroute/contracts';
import { ValidationError } from '@mailroute/platform';
import {
  compileCalendar,
  importICalendarHolidays,
  isOpenAt,
  localDateOf,
  nextClosing,
  nextOpening,
  RoutingValidationError,
} from '@mailroute/routing-engine';
import type { AdminContext, AdminHandlers } from './admin-context';

const datePattern = /^\d{4}-\d{2}-\d{2}$/;
const maxImportYears = 5;

function readImportWindow(fromDate: string, toDate: string): { fromDate: string; toDate: string } {
  const day = (value: string) => (datePattern.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN);
  const from = day(fromDate);
  const to = day(toDate);
  if (Number.isNaN(from)) throw new ValidationError('from_date', 'is required: a date (YYYY-MM-DD)');
  if (Number.isNaN(to)) throw new ValidationError('to_date', 'is required: a date (YYYY-MM-DD)');
  if (to < from) throw new ValidationError('to_date', 'must not be before from_date');
  if (to - from > maxImportYears * 366 * 86_400_000)
    throw new ValidationError('to_date', `must be within ${maxImportYears} years of from_date`);
  return { fromDate, toDate };
}

/**
 * Business calendars: Create, Get, List, Update, Delete (refused while a queue names it),
 * ImportCalendarHolidays (an iCalendar file's all-day events) and GetCalendarStatus.
 */
export function createCalendarHandlers(
  admin: AdminContext,
): Pick<
  AdminHandlers,
  | 'createCalendar'
  | 'getCalendar'
  | 'listCalendars'
  | 'updateCalendar'
  | 'deleteCalendar'
  | 'importCalendarHolidays'
  | 'getCalendarStatus'
> {
  const { create, get, update, list, remove, present } = admin.resources;
  return {
    createCalendar: async (request, context) => ({
      calendar: await create(context, 'calendar', request.calendarId, request.calendar),
    }),
    getCalendar: async (request, context) => ({
      calendar: present('calendar', await get(context, 'calendar', request.calendarId)),
    }),
    listCalendars: async (request, context) => {
      const page = await list(context, 'calendar', request.page);
      return { calendars: page.items, nextPageToken: page.nextPageToken };
    },
    updateCalendar: async (request, context) => ({
      calendar: await update(context, 'calendar', request.calendarId, request.calendar, request.updateMask ?? [], request.etag),
    }),
    deleteCalendar: async (request, context) => (await remove(context, 'calendar', request.calendarId, request.etag), {}),
    importCalendarHolidays: async (request, context) => {
      if (!request.icalendar) throw new ValidationError('icalendar', 'is required');
      const window = readImportWindow(request.fromDate, request.toDate);
      const stored = await get(context, 'calendar', request.calendarId);
      let imported;
      try {
        imported = importICalendarHolidays(request.icalendar, window);
      } catch (error) {
        if (error instanceof RoutingValidationError)
          throw new ValidationError(error.field, error.violations[0]?.message ?? error.message, { cause: error });
        throw error;
      }
      const current = request.replace ? [] : stored.value.holidays;
      const seen = new Set(current.map((h) => `${h.startDate}/${h.endDate || h.startDate}`));
      const added = imported.holidays
        .filter((h) => !seen.has(`${h.startDate}/${h.endDate}`))
        .map((h) => ({ name: h.name ?? '', startDate: h.startDate, endDate: h.endDate ?? '' }));
      const calendar: Calendar = await update(
        context,
        'calendar',
        request.calendarId,
        { ...stored.value, holidays: [...current, ...added] },
        ['holidays'],
        request.etag || String(stored.version),
      );
      return {
        calendar,
        imported: added.length,
        skipped: imported.skipped.slice(0, 100).map((s) => `${s.summary || s.uid}: ${s.reason}`),
      };
    },
    getCalendarStatus: async (request, context) => {
      const stored = await get(context, 'calendar', request.calendarId);
      const calendar = compileCalendar(stored.value);
      const at = request.at ? request.at.getTime() : admin.core.clock();
      const opening = nextOpening(calendar, at);
      const closing = nextClosing(calendar, at);
      return {
        open: isOpenAt(calendar, at),
        nextOpening: opening === undefined ? undefined : new Date(opening),
        nextClosing: closing === undefined ? undefined : new Date(closing),
        localDate: localDateOf(calendar, at),
      };
    },
  };
}
