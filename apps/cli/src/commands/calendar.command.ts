import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateCalendarResponse,
  GetCalendarResponse,
  GetCalendarStatusResponse,
  ImportCalendarHolidaysResponse,
  ListCalendarsResponse,
  OutOfHoursMode,
  Queue,
  UpdateQueueResponse,
  type Calendar,
  type CalendarException,
  type Holiday,
  type TimeRange,
  type WeekdayHours,
} from '@mailroute/contracts';
import { flag, list, requireStr, str, type Command, type CommandContext } from '../command';
import { CliError, UsageError } from '../errors';
import { formatTime, keyValues, table } from '../format';
import { enumChoices, enumLabel, parseEnum, parseInstant } from '../values';

const weekdayNames = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const rangePattern = /^(\d{2}:\d{2})-(\d{2}:\d{2})$/;
const datePattern = /^\d{4}-\d{2}-\d{2}$/;

function parseRanges(text: string, option: string): TimeRange[] {
  return text.split(',').map((part) => {
    const match = rangePattern.exec(part.trim());
    if (!match) throw new UsageError(`${option}: "${part.trim().slice(0, 40)}" is not a range like 09:00-17:00`);
    return { start: match[1] ?? '', end: match[2] ?? '' };
  });
}

function parseWeekday(name: string, option: string): number {
  const index = weekdayNames.indexOf(name.toLowerCase());
  if (index < 0) throw new UsageError(`${option}: "${name.slice(0, 20)}" is not a weekday (${weekdayNames.join(', ')})`);
  return index + 1;
}

/**
 * `--hours` values, e.g. "mon-fri 09:00-12:00,13:00-17:00" or "sat 10:00-14:00": weekdays (a
 * name or a range of names) and their ranges. A later value for a weekday replaces an earlier one.
 */
export function parseWeeklyHours(values: readonly string[], option = '--hours'): WeekdayHours[] {
  const byDay = new Map<number, TimeRange[]>();
  for (const value of values) {
    const [days, ranges, ...rest] = value.trim().split(/\s+/);
    if (!days || !ranges || rest.length > 0)
      throw new UsageError(`${option}: expected "<days> <ranges>", e.g. "mon-fri 09:00-17:00"`);
    const [first, last] = days.split('-');
    const from = parseWeekday(first ?? '', option);
    const to = last === undefined ? from : parseWeekday(last, option);
    if (to < from) throw new UsageError(`${option}: ${days} runs backwards (weeks start on Monday)`);
    const parsed = parseRanges(ranges, option);
    for (let day = from; day <= to; day++) byDay.set(day, parsed);
  }
  return [...byDay].sort(([a], [b]) => a - b).map(([weekday, ranges]) => ({ weekday, ranges }));
}

/** `--holiday` values: "2026-12-24", "2026-12-24..2026-12-26", optionally "=Name" after the dates. */
export function parseHolidays(values: readonly string[], option = '--holiday'): Holiday[] {
  return values.map((value) => {
    const [dates = '', ...name] = value.split('=');
    const [startDate = '', endDate = ''] = dates.trim().split('..');
    if (!datePattern.test(startDate) || (endDate && !datePattern.test(endDate)))
      throw new UsageError(`${option}: "${value.slice(0, 40)}" is not a date or date range like 2026-12-24..2026-12-26`);
    return { name: name.join('=').trim(), startDate, endDate };
  });
}

/** `--exception` values: "2026-12-31 09:00-12:00" (those hours that day) or "2026-12-31 closed". */
export function parseExceptions(values: readonly string[], option = '--exception'): CalendarException[] {
  return values.map((value) => {
    const [date = '', hours = '', ...rest] = value.trim().split(/\s+/);
    if (!datePattern.test(date) || !hours || rest.length > 0)
      throw new UsageError(`${option}: expected "<date> <ranges|closed>", e.g. "2026-12-31 09:00-12:00"`);
    return { date, ranges: hours === 'closed' ? [] : parseRanges(hours, option), note: '' };
  });
}

const weekdayLabel = (weekday: number) => weekdayNames[weekday - 1] ?? String(weekday);
const rangesLabel = (ranges: readonly TimeRange[]) =>
  ranges.length ? ranges.map((r) => `${r.start}-${r.end}`).join(',') : 'closed';

function describeCalendar(calendar: Calendar | undefined): string {
  if (!calendar) return '';
  const hours = calendar.weeklyHours.map((day) => `${weekdayLabel(day.weekday)} ${rangesLabel(day.ranges)}`).join('; ');
  const holidays = calendar.holidays.map(
    (h) => `${h.startDate}${h.endDate && h.endDate !== h.startDate ? `..${h.endDate}` : ''}${h.name ? ` ${h.name}` : ''}`,
  );
  const exceptions = calendar.exceptions.map((e) => `${e.date} ${rangesLabel(e.ranges)}`);
  return keyValues([
    ['calendar', calendar.calendarId],
    ['name', calendar.displayName],
    ['time zone', calendar.timeZone],
    ['hours', hours || 'closed every day'],
    ['holidays', holidays.join('; ') || 'none'],
    ['exceptions', exceptions.join('; ') || 'none'],
    ['etag', calendar.etag],
  ]);
}

/** Reads the iCalendar file; relative paths are taken from where the user ran `npm run` (INIT_CWD). */
async function readICalendar(context: CommandContext, file: string): Promise<string> {
  const full = path.resolve(context.io.env['INIT_CWD'] ?? process.cwd(), file);
  try {
    return await readFile(full, 'utf8');
  } catch (error) {
    throw new CliError(`--file: cannot read ${full} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

const hoursOptions = {
  hours: {
    type: 'string',
    multiple: true,
    value: '"<days> <ranges>"',
    description: 'opening hours, e.g. "mon-fri 09:00-12:00,13:00-17:00" (repeatable; unlisted days are closed)',
  },
  holiday: {
    type: 'string',
    multiple: true,
    value: '<date[..date][=name]>',
    description: 'closed all day, e.g. 2026-12-24..2026-12-26=Christmas (repeatable)',
  },
  exception: {
    type: 'string',
    multiple: true,
    value: '"<date> <ranges|closed>"',
    description: 'one date\'s own hours, e.g. "2026-12-31 09:00-12:00" or "2026-12-24 closed" (repeatable)',
  },
} as const;

export const calendarCommands: Command[] = [
  {
    path: ['calendar', 'create'],
    summary: 'create a business calendar (opening hours, holidays, exceptions) for queues',
    args: ['<calendar-id>'],
    options: {
      name: { type: 'string', value: '<text>', description: 'display name (required)' },
      'time-zone': { type: 'string', value: '<iana-zone>', description: 'IANA time zone, e.g. Europe/Berlin (required)' },
      ...hoursOptions,
    },
    details:
      'Times are local to the time zone; daylight-saving changes follow its rules. An exception replaces a holiday or weekday that date.',
    async run(context) {
      const { values } = context;
      const response = await context.clients.router().createCalendar({
        calendarId: context.positionals[0] ?? '',
        calendar: {
          calendarId: '',
          displayName: requireStr(values, 'name'),
          timeZone: requireStr(values, 'time-zone'),
          weeklyHours: parseWeeklyHours(list(values, 'hours')),
          holidays: parseHolidays(list(values, 'holiday')),
          exceptions: parseExceptions(list(values, 'exception')),
          etag: '',
        },
      });
      context.print(CreateCalendarResponse.toJSON(response), () => describeCalendar(response.calendar));
    },
  },
  {
    path: ['calendar', 'update'],
    summary: "replace a calendar's hours, holidays or exceptions (only the options given)",
    args: ['<calendar-id>'],
    options: {
      name: { type: 'string', value: '<text>', description: 'display name' },
      'time-zone': { type: 'string', value: '<iana-zone>', description: 'IANA time zone' },
      ...hoursOptions,
      'no-holidays': { type: 'boolean', description: 'remove every holiday' },
      'no-exceptions': { type: 'boolean', description: 'remove every exception' },
    },
    async run(context) {
      const { values } = context;
      const paths: string[] = [];
      const calendar: Calendar = {
        calendarId: '',
        displayName: str(values, 'name') ?? '',
        timeZone: str(values, 'time-zone') ?? '',
        weeklyHours: parseWeeklyHours(list(values, 'hours')),
        holidays: parseHolidays(list(values, 'holiday')),
        exceptions: parseExceptions(list(values, 'exception')),
        etag: '',
      };
      if (str(values, 'name') !== undefined) paths.push('display_name');
      if (str(values, 'time-zone') !== undefined) paths.push('time_zone');
      if (list(values, 'hours').length) paths.push('weekly_hours');
      if (list(values, 'holiday').length || flag(values, 'no-holidays')) paths.push('holidays');
      if (list(values, 'exception').length || flag(values, 'no-exceptions')) paths.push('exceptions');
      if (paths.length === 0)
        throw new UsageError('nothing to change: give --name, --time-zone, --hours, --holiday or --exception');
      const response = await context.clients
        .router()
        .updateCalendar({ calendarId: context.positionals[0] ?? '', calendar, updateMask: paths, etag: '' });
      context.print(GetCalendarResponse.toJSON(response), () => describeCalendar(response.calendar));
    },
  },
  {
    path: ['calendar', 'show'],
    summary: 'show a calendar',
    args: ['<calendar-id>'],
    async run(context) {
      const response = await context.clients.router().getCalendar({ calendarId: context.positionals[0] ?? '' });
      context.print(GetCalendarResponse.toJSON(response), () => describeCalendar(response.calendar));
    },
  },
  {
    path: ['calendar', 'list'],
    summary: 'list calendars',
    async run(context) {
      const response = await context.clients.router().listCalendars({ page: { pageSize: 500, pageToken: '' } });
      context.print(ListCalendarsResponse.toJSON(response), () =>
        table(
          ['ID', 'NAME', 'TIME ZONE', 'HOURS', 'HOLIDAYS', 'EXCEPTIONS'],
          response.calendars.map((c) => [
            c.calendarId,
            c.displayName,
            c.timeZone,
            c.weeklyHours.map((d) => `${weekdayLabel(d.weekday)} ${rangesLabel(d.ranges)}`).join('; '),
            c.holidays.length,
            c.exceptions.length,
          ]),
        ),
      );
    },
  },
  {
    path: ['calendar', 'delete'],
    summary: 'delete a calendar (refused while a queue uses it)',
    args: ['<calendar-id>'],
    async run(context) {
      const calendarId = context.positionals[0] ?? '';
      await context.clients.router().deleteCalendar({ calendarId, etag: '' });
      context.print({ deleted: calendarId }, () => `calendar ${calendarId} deleted`);
    },
  },
  {
    path: ['calendar', 'import-holidays'],
    summary: "add an iCalendar file's all-day events to a calendar's holidays",
    args: ['<calendar-id>'],
    options: {
      file: { type: 'string', value: '<file.ics>', description: 'the iCalendar file (required)' },
      from: { type: 'string', value: '<date>', description: 'first date to import, YYYY-MM-DD (required)' },
      to: { type: 'string', value: '<date>', description: 'last date to import, YYYY-MM-DD, within 5 years (required)' },
      replace: { type: 'boolean', description: 'replace the holidays instead of adding' },
    },
    details: 'Recurring events (e.g. yearly) are expanded from --from to --to; timed events are skipped and listed.',
    async run(context) {
      const { values } = context;
      const response = await context.clients.router().importCalendarHolidays({
        calendarId: context.positionals[0] ?? '',
        icalendar: await readICalendar(context, requireStr(values, 'file')),
        fromDate: requireStr(values, 'from'),
        toDate: requireStr(values, 'to'),
        replace: flag(values, 'replace'),
        etag: '',
      });
      context.print(ImportCalendarHolidaysResponse.toJSON(response), () =>
        [
          `${response.imported} holidays imported into ${response.calendar?.calendarId ?? ''} (${response.calendar?.holidays.length ?? 0} in all)`,
          ...response.skipped.map((line) => `skipped: ${line}`),
        ].join('\n'),
      );
    },
  },
  {
    path: ['calendar', 'status'],
    summary: 'whether a calendar is open now (or at --at), with its next opening and closing',
    args: ['<calendar-id>'],
    options: {
      at: { type: 'string', value: '<instant>', description: 'the instant, e.g. 2026-12-24T10:00:00Z or +3d (default now)' },
    },
    async run(context) {
      const at = str(context.values, 'at');
      const response = await context.clients.router().getCalendarStatus({
        calendarId: context.positionals[0] ?? '',
        ...(at ? { at: parseInstant(at, '--at', context.now()) } : {}),
      });
      context.print(GetCalendarStatusResponse.toJSON(response), () =>
        keyValues([
          ['open', response.open ? 'yes' : 'no'],
          ['local date', response.localDate],
          ['next opening', response.nextOpening ? formatTime(response.nextOpening) : 'not within 3 years'],
          ['next closing', response.nextClosing ? formatTime(response.nextClosing) : 'not within 3 years'],
        ]),
      );
    },
  },
  {
    path: ['queue', 'hours'],
    summary: "set a queue's business hours: its calendar and what happens while it is closed",
    args: ['<queue-id>'],
    options: {
      calendar: { type: 'string', value: '<calendar-id>', description: 'the calendar (required unless --always-open)' },
      'when-closed': {
        type: 'string',
        value: `<${enumChoices(OutOfHoursMode, 'OUT_OF_HOURS_MODE').join('|')}>`,
        description: 'wait (default) or overflow to --overflow-queue',
      },
      'overflow-queue': { type: 'string', value: '<queue-id>', description: 'with --when-closed overflow: the target queue' },
      'agents-work-out-of-hours': { type: 'boolean', description: "offer the queue's mail to its agents while it is closed" },
      'business-time-sl': { type: 'boolean', description: 'count the service-level threshold in open hours only' },
      'business-time-escalation': { type: 'boolean', description: "count escalation steps' waits in open hours only" },
      'always-open': { type: 'boolean', description: 'remove the business hours' },
    },
    async run(context) {
      const { values } = context;
      const alwaysOpen = flag(values, 'always-open');
      const mode = str(values, 'when-closed');
      const hours = alwaysOpen
        ? undefined
        : {
            calendarId: requireStr(values, 'calendar'),
            whenClosed: mode
              ? parseEnum<OutOfHoursMode>(OutOfHoursMode, 'OUT_OF_HOURS_MODE', mode, '--when-closed')
              : OutOfHoursMode.OUT_OF_HOURS_MODE_WAIT,
            overflowQueueId: str(values, 'overflow-queue') ?? '',
            agentsWorkOutOfHours: flag(values, 'agents-work-out-of-hours'),
            serviceLevelBusinessTime: flag(values, 'business-time-sl'),
            escalationBusinessTime: flag(values, 'business-time-escalation'),
          };
      const response = await context.clients.router().updateQueue({
        queueId: context.positionals[0] ?? '',
        queue: Queue.fromPartial({ hours }),
        updateMask: ['hours'],
        etag: '',
      });
      const h = response.queue?.hours;
      context.print(UpdateQueueResponse.toJSON(response), () =>
        h
          ? `queue ${response.queue?.queueId ?? ''}: calendar ${h.calendarId}, when closed ${enumLabel(OutOfHoursMode, 'OUT_OF_HOURS_MODE', h.whenClosed || OutOfHoursMode.OUT_OF_HOURS_MODE_WAIT)}${h.overflowQueueId ? ` to ${h.overflowQueueId}` : ''}${h.agentsWorkOutOfHours ? ', agents work out of hours' : ''}${h.serviceLevelBusinessTime ? ', service level in business time' : ''}${h.escalationBusinessTime ? ', escalation in business time' : ''}`
          : `queue ${response.queue?.queueId ?? ''}: always open`,
      );
    },
  },
];
