import { DateTime, IANAZone } from 'luxon';
import type { FieldViolation } from './errors';
import type { EpochMillis } from './model';
import { Violations } from './validation';

/** Local times of day are "HH:MM" from 00:00 to 24:00 (24:00 is the end of the day). */
export interface CalendarTimeRange {
  start: string;
  end: string;
}

/** Opening hours of one ISO weekday (1 = Monday … 7 = Sunday); several ranges per day. */
export interface CalendarWeekday {
  weekday: number;
  ranges: readonly CalendarTimeRange[];
}

/** A holiday: closed all day from `startDate` to `endDate` (both local dates "YYYY-MM-DD", inclusive; end defaults to start). */
export interface CalendarHoliday {
  name?: string | undefined;
  startDate: string;
  endDate?: string | undefined;
}

/**
 * An exception for one local date: it replaces that day's hours, holiday or not. Ranges open the
 * day as given (open on a holiday, closed early); no ranges close it all day.
 */
export interface CalendarException {
  date: string;
  ranges: readonly CalendarTimeRange[];
  note?: string | undefined;
}

/** A tenant's business calendar as configured (the proto BusinessCalendar's content). */
export interface CalendarDefinition {
  /** IANA time zone, e.g. "Europe/Berlin"; every local date and time is read in it. */
  timeZone: string;
  weeklyHours: readonly CalendarWeekday[];
  holidays: readonly CalendarHoliday[];
  exceptions: readonly CalendarException[];
}

/** Configuration limits, checked by `validateCalendar`. */
export const calendarLimits = {
  rangesPerDay: 8,
  holidays: 1000,
  holidayDays: 366,
  exceptions: 1000,
  nameLength: 200,
  /** How far `nextOpening`/`nextClosing`/`addBusinessTime` look before they give up (days). */
  searchDays: 3 * 366,
} as const;

const MINUTES_PER_DAY = 24 * 60;
const timePattern = /^([01]\d|2[0-4]):([0-5]\d)$/;
const datePattern = /^\d{4}-\d{2}-\d{2}$/;

/** "HH:MM" → minutes of the day (0-1440), or undefined when malformed or past 24:00. */
function parseTimeOfDay(value: string): number | undefined {
  const match = timePattern.exec(value);
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return minutes <= MINUTES_PER_DAY ? minutes : undefined;
}

/** "YYYY-MM-DD" → a day number (days since 1970-01-01 as a calendar date), or undefined when not a real date. */
function parseLocalDate(value: string): number | undefined {
  if (!datePattern.test(value)) return undefined;
  const date = DateTime.fromISO(value, { zone: 'utc' });
  return date.isValid ? Math.round(date.toMillis() / 86_400_000) : undefined;
}

const dayToIsoDate = (day: number): string => DateTime.fromMillis(day * 86_400_000, { zone: 'utc' }).toISODate() as string;

/** Minutes-of-day ranges [start, end), sorted, non-overlapping. */
type DayRanges = readonly (readonly [number, number])[];

/**
 * A calendar ready for queries: validated, parsed, with a bounded memo of each local day's open
 * intervals. Build it with `compileCalendar`. Pure: every query takes the instant.
 */
export interface BusinessCalendar {
  readonly timeZone: string;
  readonly definition: CalendarDefinition;
  /** Weekday 1-7 → ranges. */
  readonly weekly: ReadonlyMap<number, DayRanges>;
  /** Holiday day ranges [firstDay, lastDay], sorted by first day. */
  readonly holidays: readonly (readonly [number, number])[];
  readonly exceptions: ReadonlyMap<number, DayRanges>;
  /** Day number → open intervals in epoch milliseconds. */
  readonly memo: Map<number, readonly (readonly [EpochMillis, EpochMillis])[]>;
}

function checkRanges(v: Violations, field: string, ranges: readonly CalendarTimeRange[]): void {
  if (!v.count(field, ranges, calendarLimits.rangesPerDay)) return;
  const parsed: [number, number, number][] = [];
  ranges.forEach((range, index) => {
    const start = parseTimeOfDay(range.start);
    const end = parseTimeOfDay(range.end);
    if (start === undefined || start === MINUTES_PER_DAY)
      v.add(`${field}[${index}].start`, 'must be a time from 00:00 to 23:59 (HH:MM)');
    if (end === undefined) v.add(`${field}[${index}].end`, 'must be a time from 00:01 to 24:00 (HH:MM)');
    if (start !== undefined && end !== undefined && start < MINUTES_PER_DAY) {
      if (end <= start) v.add(`${field}[${index}].end`, 'must be after start (split a range that passes midnight in two)');
      else parsed.push([start, end, index]);
    }
  });
  parsed.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < parsed.length; i++) {
    const previous = parsed[i - 1] as [number, number, number];
    const current = parsed[i] as [number, number, number];
    if (current[0] < previous[1]) v.add(`${field}[${current[2]}]`, `overlaps range ${previous[2]}`);
  }
}

/**
 * Checks a calendar against the limits. Field paths are proto names under `fieldPrefix`
 * ("calendar.weekly_hours[0].ranges[1].end").
 */
export function validateCalendar(calendar: CalendarDefinition, options: { fieldPrefix?: string } = {}): FieldViolation[] {
  const v = new Violations(options.fieldPrefix);
  if (!calendar.timeZone) v.add('time_zone', 'is required: an IANA time zone such as Europe/Berlin');
  else if (calendar.timeZone.length > 64 || !IANAZone.isValidZone(calendar.timeZone))
    v.add('time_zone', 'is not a known IANA time zone');
  if (v.count('weekly_hours', calendar.weeklyHours, 7)) {
    const seen = new Set<number>();
    calendar.weeklyHours.forEach((day, index) => {
      const field = `weekly_hours[${index}]`;
      if (!Number.isInteger(day.weekday) || day.weekday < 1 || day.weekday > 7)
        v.add(`${field}.weekday`, 'must be 1 (Monday) to 7 (Sunday)');
      else if (seen.has(day.weekday)) v.add(`${field}.weekday`, `names weekday ${day.weekday} twice`);
      seen.add(day.weekday);
      checkRanges(v, `${field}.ranges`, day.ranges);
    });
  }
  if (v.count('holidays', calendar.holidays, calendarLimits.holidays)) {
    calendar.holidays.forEach((holiday, index) => {
      const field = `holidays[${index}]`;
      v.text(`${field}.name`, holiday.name ?? '', { max: calendarLimits.nameLength });
      const first = parseLocalDate(holiday.startDate);
      if (first === undefined) v.add(`${field}.start_date`, 'must be a date (YYYY-MM-DD)');
      if (holiday.endDate) {
        const last = parseLocalDate(holiday.endDate);
        if (last === undefined) v.add(`${field}.end_date`, 'must be a date (YYYY-MM-DD)');
        else if (first !== undefined && last < first) v.add(`${field}.end_date`, 'must not be before start_date');
        else if (first !== undefined && last - first >= calendarLimits.holidayDays)
          v.add(`${field}.end_date`, `must be within ${calendarLimits.holidayDays} days of start_date`);
      }
    });
  }
  if (v.count('exceptions', calendar.exceptions, calendarLimits.exceptions)) {
    const seen = new Set<string>();
    calendar.exceptions.forEach((exception, index) => {
      const field = `exceptions[${index}]`;
      if (parseLocalDate(exception.date) === undefined) v.add(`${field}.date`, 'must be a date (YYYY-MM-DD)');
      else if (seen.has(exception.date)) v.add(`${field}.date`, `names ${exception.date} twice`);
      seen.add(exception.date);
      v.text(`${field}.note`, exception.note ?? '', { max: calendarLimits.nameLength });
      checkRanges(v, `${field}.ranges`, exception.ranges);
    });
  }
  return v.list;
}

const toDayRanges = (ranges: readonly CalendarTimeRange[]): DayRanges =>
  ranges
    .map((range) => [parseTimeOfDay(range.start) as number, parseTimeOfDay(range.end) as number] as const)
    .sort((a, b) => a[0] - b[0]);

/**
 * Compiles a validated calendar (see `validateCalendar`; an invalid one throws `RangeError`).
 * Local times are converted with Luxon in the calendar's zone: a wall time skipped by a DST change
 * moves forward by the gap (02:30 on a spring-forward night is 03:30), and a wall time that occurs
 * twice on a fall-back night is its later occurrence.
 */
export function compileCalendar(definition: CalendarDefinition): BusinessCalendar {
  const violations = validateCalendar(definition);
  if (violations.length > 0) throw new RangeError(`invalid calendar: ${violations[0]?.field}: ${violations[0]?.message}`);
  return {
    timeZone: definition.timeZone,
    definition,
    weekly: new Map(definition.weeklyHours.map((day) => [day.weekday, toDayRanges(day.ranges)])),
    holidays: definition.holidays
      .map((h) => [parseLocalDate(h.startDate) as number, parseLocalDate(h.endDate || h.startDate) as number] as const)
      .sort((a, b) => a[0] - b[0]),
    exceptions: new Map(definition.exceptions.map((e) => [parseLocalDate(e.date) as number, toDayRanges(e.ranges)])),
    memo: new Map(),
  };
}

function isHoliday(calendar: BusinessCalendar, day: number): boolean {
  return calendar.holidays.some(([first, last]) => first <= day && day <= last);
}

/** The local day (day number) that contains the instant, in the calendar's zone. */
function localDayOf(calendar: BusinessCalendar, at: EpochMillis): number {
  const local = DateTime.fromMillis(at, { zone: calendar.timeZone });
  return Math.round(Date.UTC(local.year, local.month - 1, local.day) / 86_400_000);
}

/** The instant of a local day's minute (1440 = the next day's 00:00). */
function instantOf(calendar: BusinessCalendar, day: number, minute: number): EpochMillis {
  const date = DateTime.fromMillis((day + Math.floor(minute / MINUTES_PER_DAY)) * 86_400_000, { zone: 'utc' });
  const rest = minute % MINUTES_PER_DAY;
  return DateTime.fromObject(
    { year: date.year, month: date.month, day: date.day, hour: Math.floor(rest / 60), minute: rest % 60 },
    { zone: calendar.timeZone },
  ).toMillis();
}

/** The hours that apply on a local day: its exception, else closed on a holiday, else its weekday's hours. */
export function hoursOnDay(calendar: BusinessCalendar, isoDate: string): { start: string; end: string }[] {
  const day = parseLocalDate(isoDate);
  if (day === undefined) throw new RangeError(`not a date: ${isoDate.slice(0, 20)}`);
  const pad = (minutes: number): string =>
    `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  return rangesOfDay(calendar, day).map(([start, end]) => ({ start: pad(start), end: pad(end) }));
}

function rangesOfDay(calendar: BusinessCalendar, day: number): DayRanges {
  const exception = calendar.exceptions.get(day);
  if (exception) return exception;
  if (isHoliday(calendar, day)) return [];
  const weekday = ((((day + 3) % 7) + 7) % 7) + 1; // 1970-01-01 was a Thursday (ISO 4).
  return calendar.weekly.get(weekday) ?? [];
}

/** A local day's open intervals [start, end) in epoch milliseconds (memoised, at most 4096 days). */
function intervalsOfDay(calendar: BusinessCalendar, day: number): readonly (readonly [EpochMillis, EpochMillis])[] {
  const known = calendar.memo.get(day);
  if (known) return known;
  const intervals = rangesOfDay(calendar, day)
    .map(([start, end]) => [instantOf(calendar, day, start), instantOf(calendar, day, end)] as const)
    .filter(([start, end]) => end > start);
  if (calendar.memo.size >= 4096) calendar.memo.clear();
  calendar.memo.set(day, intervals);
  return intervals;
}

/**
 * Open intervals that end after `from`, in order, adjacent ones merged (a day open to 24:00 and the
 * next from 00:00 is one interval), until `untilDay` or `calendarLimits.searchDays` days on.
 */
function* openIntervals(
  calendar: BusinessCalendar,
  from: EpochMillis,
  untilDay?: number,
): Generator<readonly [EpochMillis, EpochMillis]> {
  const firstDay = localDayOf(calendar, from);
  const lastDay = Math.min(untilDay ?? Infinity, firstDay + calendarLimits.searchDays);
  let pending: [EpochMillis, EpochMillis] | undefined;
  for (let day = firstDay; day <= lastDay; day++) {
    for (const [start, end] of intervalsOfDay(calendar, day)) {
      if (end <= from) continue;
      if (pending && start <= pending[1]) pending[1] = Math.max(pending[1], end);
      else {
        if (pending) yield pending;
        pending = [start, end];
      }
    }
  }
  if (pending) yield pending;
}

/** True when the calendar is open at the instant (intervals are [opening, closing): closed at the closing instant). */
export function isOpenAt(calendar: BusinessCalendar, at: EpochMillis): boolean {
  return intervalsOfDay(calendar, localDayOf(calendar, at)).some(([start, end]) => start <= at && at < end);
}

/** `at` when open then, else the next opening after it; undefined when it does not open within `searchDays`. */
export function nextOpening(calendar: BusinessCalendar, at: EpochMillis): EpochMillis | undefined {
  for (const [start] of openIntervals(calendar, at)) return Math.max(start, at);
  return undefined;
}

/**
 * The closing that ends the open period containing `at` (or, when closed at `at`, the next open
 * period); undefined when it never closes or never opens within `searchDays`.
 */
export function nextClosing(calendar: BusinessCalendar, at: EpochMillis): EpochMillis | undefined {
  for (const [, end] of openIntervals(calendar, at)) {
    const lastSearched = instantOf(calendar, localDayOf(calendar, at) + calendarLimits.searchDays, MINUTES_PER_DAY);
    return end >= lastSearched ? undefined : end;
  }
  return undefined;
}

/** Open time in [from, to) in milliseconds (0 when to <= from). */
export function businessTimeBetween(calendar: BusinessCalendar, from: EpochMillis, to: EpochMillis): number {
  if (to <= from) return 0;
  let total = 0;
  for (const [start, end] of openIntervals(calendar, from, localDayOf(calendar, to))) {
    if (start >= to) break;
    total += Math.min(end, to) - Math.max(start, from);
  }
  return total;
}

/**
 * The instant at which `durationMs` of open time has passed since `from` (from itself for 0); when
 * it is used up exactly at a closing, that closing. Undefined when the calendar does not provide it
 * within `searchDays`.
 */
export function addBusinessTime(calendar: BusinessCalendar, from: EpochMillis, durationMs: number): EpochMillis | undefined {
  if (durationMs <= 0) return from;
  let remaining = durationMs;
  for (const [start, end] of openIntervals(calendar, from)) {
    const begin = Math.max(start, from);
    if (end - begin >= remaining) return begin + remaining;
    remaining -= end - begin;
  }
  return undefined;
}

/** The local date ("YYYY-MM-DD") of an instant in the calendar's zone. */
export function localDateOf(calendar: BusinessCalendar, at: EpochMillis): string {
  return dayToIsoDate(localDayOf(calendar, at));
}
