// "Open now · closes at 17:00" / "Closed now · opens Mon 09:00" for one calendar, in the calendar's own time zone,
// from GetCalendarStatus (the router's calendar logic, so the console never disagrees with routing).
import type { Calendar, InteractionRouterServiceClient } from '@mailroute/contracts';
import { usePoll } from '../../ui/use-poll';

/** An instant as the calendar's local weekday and time, e.g. "Mon 09:00" (with the date when it is not this week). */
function localTime(instant: Date, timeZone: string): string {
  const within = instant.getTime() - Date.now() < 6 * 86_400_000;
  return instant.toLocaleString(undefined, {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...(within ? {} : { day: 'numeric', month: 'short' }),
  });
}

export function CalendarStatus(props: { router: InteractionRouterServiceClient; calendar: Calendar }) {
  const { calendarId, etag, timeZone } = props.calendar;
  const status = usePoll(() => props.router.getCalendarStatus({ calendarId }), 60_000, [calendarId, etag]);
  if (status.failure) return <span class="muted small">status unavailable: {status.failure.message}</span>;
  const s = status.data;
  if (!s) return <span class="muted small">…</span>;
  const local = new Date().toLocaleTimeString(undefined, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return (
    <span class={`open-state ${s.open ? 'open' : 'closed'}`} data-testid="calendar-status" data-open={String(s.open)}>
      <strong>{s.open ? 'Open now' : 'Closed now'}</strong>
      {s.open
        ? s.nextClosing
          ? ` · closes ${localTime(s.nextClosing, timeZone)}`
          : ''
        : s.nextOpening
          ? ` · opens ${localTime(s.nextOpening, timeZone)}`
          : ' · does not open within 3 years'}
      <span class="muted small"> (local time {local})</span>
    </span>
  );
}
