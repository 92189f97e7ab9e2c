// A business calendar as the editor holds it (one list of ranges per weekday, holidays, exceptions), the
// conversion to and from the proto Calendar, a one-line summary of its weekly hours, and where in the form
// an API error's field path ("calendar.weekly_hours[0].ranges[1].end") points.
import type { Calendar, TimeRange } from '@mailroute/contracts';

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

export interface HolidayDraft {
  name: string;
  startDate: string;
  /** Empty: a single day. */
  endDate: string;
}

export interface ExceptionDraft {
  date: string;
  /** Closed all day; otherwise open only during `ranges` (e.g. closing early, or opening on a holiday). */
  closed: boolean;
  ranges: TimeRange[];
  note: string;
}

export interface CalendarDraft {
  /** Empty for a new calendar whose id the router generates. */
  calendarId: string;
  displayName: string;
  timeZone: string;
  /** Index 0 = Monday … 6 = Sunday; an empty list is closed that day. */
  days: TimeRange[][];
  holidays: HolidayDraft[];
  exceptions: ExceptionDraft[];
  /** Empty for a new calendar; the stored etag otherwise (a concurrent change is refused). */
  etag: string;
}

/** The browser's own zone: what a new calendar starts with. */
function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** A new calendar (Monday to Friday 09:00–17:00 in the browser's zone), or an editable copy of a stored one. */
export function draftOf(calendar?: Calendar): CalendarDraft {
  if (!calendar) {
    return {
      calendarId: '',
      displayName: '',
      timeZone: browserZone(),
      days: WEEKDAYS.map((_, index) => (index < 5 ? [{ start: '09:00', end: '17:00' }] : [])),
      holidays: [],
      exceptions: [],
      etag: '',
    };
  }
  return {
    calendarId: calendar.calendarId,
    displayName: calendar.displayName,
    timeZone: calendar.timeZone,
    days: WEEKDAYS.map((_, index) =>
      (calendar.weeklyHours.find((day) => day.weekday === index + 1)?.ranges ?? []).map((r) => ({ ...r })),
    ),
    holidays: calendar.holidays.map((h) => ({ name: h.name, startDate: h.startDate, endDate: h.endDate })),
    exceptions: calendar.exceptions.map((e) => ({
      date: e.date,
      closed: e.ranges.length === 0,
      ranges: e.ranges.map((r) => ({ ...r })),
      note: e.note,
    })),
    etag: calendar.etag,
  };
}

/** The weekdays the request lists, in order: weekly_hours[i] is weekday `openDays(draft)[i] + 1`. */
function openDays(draft: CalendarDraft): number[] {
  return draft.days.flatMap((ranges, index) => (ranges.length ? [index] : []));
}

/** The Calendar to send; the router validates every value (and names the field it refuses). */
export function calendarOf(draft: CalendarDraft): Calendar {
  return {
    calendarId: '',
    displayName: draft.displayName.trim(),
    timeZone: draft.timeZone.trim(),
    weeklyHours: openDays(draft).map((index) => ({ weekday: index + 1, ranges: draft.days[index] ?? [] })),
    holidays: draft.holidays.map((h) => ({ name: h.name.trim(), startDate: h.startDate, endDate: h.endDate })),
    exceptions: draft.exceptions.map((e) => ({ date: e.date, ranges: e.closed ? [] : e.ranges, note: e.note.trim() })),
    etag: '',
  };
}

const short = (index: number) => WEEKDAYS[index]?.slice(0, 3) ?? '?';
const rangeText = (ranges: readonly TimeRange[]) => ranges.map((r) => `${r.start}–${r.end}`).join(', ');

/** "Mon–Fri 09:00–12:00, 13:00–17:00 · Sat 10:00–14:00": consecutive days with the same hours grouped. */
export function summarizeWeek(calendar: Calendar): string {
  const days = draftOf(calendar).days;
  const groups: { from: number; to: number; text: string }[] = [];
  days.forEach((ranges, index) => {
    if (!ranges.length) return;
    const text = rangeText(ranges);
    const last = groups.at(-1);
    if (last && last.to === index - 1 && last.text === text) last.to = index;
    else groups.push({ from: index, to: index, text });
  });
  if (!groups.length) return 'Closed every day';
  return groups.map((g) => `${short(g.from)}${g.to > g.from ? `–${short(g.to)}` : ''} ${g.text}`).join(' · ');
}

const fieldLabels: Record<string, string> = {
  display_name: 'Name',
  time_zone: 'Time zone',
  start: 'opening time',
  end: 'closing time',
  start_date: 'first day',
  end_date: 'last day',
  name: 'name',
  date: 'date',
  note: 'note',
  weekday: 'weekday',
};

/**
 * Where an INVALID_ARGUMENT message's field path points, in the form's words: "calendar.weekly_hours[0].ranges[1].end:
 * must be after start" → "Tuesday, range 2, closing time" (when the request listed Tuesday first). Undefined when the
 * message names no calendar field.
 */
export function describeCalendarField(message: string, draft: CalendarDraft): string | undefined {
  const path = /^calendar\.([a-z_[\]0-9.]+):/.exec(message)?.[1];
  if (!path) return undefined;
  const parts: string[] = [];
  for (const segment of path.split('.')) {
    const [, name = '', index] = /^([a-z_]+)(?:\[(\d+)\])?$/.exec(segment) ?? [];
    const n = index === undefined ? undefined : Number(index);
    if (name === 'weekly_hours' && n !== undefined) parts.push(WEEKDAYS[openDays(draft)[n] ?? -1] ?? `day ${n + 1}`);
    else if (name === 'holidays' && n !== undefined) parts.push(`Holiday ${n + 1}`);
    else if (name === 'exceptions' && n !== undefined)
      parts.push(`Exception ${n + 1}${draft.exceptions[n]?.date ? ` (${draft.exceptions[n]?.date})` : ''}`);
    else if (name === 'ranges' && n !== undefined) parts.push(`range ${n + 1}`);
    else parts.push(fieldLabels[name] ?? name.replace(/_/g, ' '));
  }
  return parts.join(', ');
}

/** The range an INVALID_ARGUMENT message names: which day (weekday index 0-6) or exception, which range, which end. */
export interface InvalidRange {
  day?: number;
  exception?: number;
  range: number;
  /** Unset: the range as a whole (it overlaps another). */
  part?: 'start' | 'end';
}

export function invalidRangeOf(message: string, draft: CalendarDraft): InvalidRange | undefined {
  const match = /^calendar\.(weekly_hours|exceptions)\[(\d+)\]\.ranges\[(\d+)\](?:\.(start|end))?:/.exec(message);
  if (!match) return undefined;
  const [, list, index = '0', range = '0', part] = match;
  const where = list === 'weekly_hours' ? { day: openDays(draft)[Number(index)] } : { exception: Number(index) };
  return { ...where, range: Number(range), ...(part ? { part: part as 'start' | 'end' } : {}) };
}

/**
 * The refused range while its marked field still holds what was sent: once the person edits that field (or removes
 * the range), the marker goes; the router checks it again on the next save.
 */
export function stillInvalid(
  invalid: InvalidRange | undefined,
  sent: CalendarDraft,
  draft: CalendarDraft,
): InvalidRange | undefined {
  if (!invalid) return undefined;
  const rangeIn = (d: CalendarDraft) =>
    invalid.day !== undefined
      ? d.days[invalid.day]?.[invalid.range]
      : d.exceptions[invalid.exception ?? -1]?.ranges[invalid.range];
  const before = rangeIn(sent);
  const now = rangeIn(draft);
  if (!before || !now) return undefined;
  const parts = invalid.part ? [invalid.part] : (['start', 'end'] as const);
  return parts.every((part) => before[part] === now[part]) ? invalid : undefined;
}
