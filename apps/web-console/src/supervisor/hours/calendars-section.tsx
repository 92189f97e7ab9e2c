// The tenant's business calendars: each with its zone, weekly hours, holidays and exceptions, whether it is open now
// (in its own zone), and which queues use it; create, edit, import holidays from an .ics file, delete (the router
// refuses while a queue uses the calendar, and the console shows its words).
import type { Calendar, InteractionRouterServiceClient, Queue } from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import { toFailure, type Failure } from '../../api/errors';
import { Empty, FailureLine } from '../shared';
import { CalendarEditor } from './calendar-editor';
import { summarizeWeek } from './calendar-draft';
import { CalendarStatus } from './calendar-status';
import { IcsImport } from './ics-import';

type Editing = { kind: 'new' } | { kind: 'edit'; calendar: Calendar } | undefined;

function holidayText(calendar: Calendar): string {
  const today = new Date().toISOString().slice(0, 10);
  const coming = calendar.holidays
    .filter((h) => (h.endDate || h.startDate) >= today)
    .sort((a, b) => a.startDate.localeCompare(b.startDate))
    .slice(0, 3)
    .map((h) => `${h.name || 'Holiday'} ${h.startDate}${h.endDate && h.endDate !== h.startDate ? `–${h.endDate}` : ''}`);
  if (!calendar.holidays.length) return 'none';
  return `${calendar.holidays.length}${coming.length ? `; next: ${coming.join(', ')}` : ''}`;
}

function exceptionText(calendar: Calendar): string {
  const parts = calendar.exceptions.map(
    (e) =>
      `${e.date} ${e.ranges.length ? `open ${e.ranges.map((r) => `${r.start}–${r.end}`).join(', ')}` : 'closed'}${e.note ? ` (${e.note})` : ''}`,
  );
  return parts.join('; ') || 'none';
}

function CalendarCard(props: {
  router: InteractionRouterServiceClient;
  calendar: Calendar;
  usedBy: Queue[];
  onEdit: () => void;
  onChanged: () => void;
}) {
  const { calendar } = props;
  const [importing, setImporting] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [failure, setFailure] = useState<Failure>();
  const remove = async () => {
    setFailure(undefined);
    try {
      await props.router.deleteCalendar({ calendarId: calendar.calendarId, etag: calendar.etag });
      props.onChanged();
    } catch (error) {
      setFailure(toFailure(error));
    } finally {
      setConfirming(false);
    }
  };
  return (
    <article
      class="card calendar"
      data-testid="calendar"
      data-calendar-id={calendar.calendarId}
      aria-label={calendar.displayName}
    >
      <h3>
        <span>
          {calendar.displayName} <span class="muted small">{calendar.calendarId}</span>
        </span>
      </h3>
      <p>
        <CalendarStatus router={props.router} calendar={calendar} />
      </p>
      <dl class="facts">
        <dt>Time zone</dt>
        <dd>{calendar.timeZone}</dd>
        <dt>Hours</dt>
        <dd data-testid="calendar-hours">{summarizeWeek(calendar)}</dd>
        <dt>Holidays</dt>
        <dd data-testid="calendar-holidays">{holidayText(calendar)}</dd>
        <dt>Exceptions</dt>
        <dd>{exceptionText(calendar)}</dd>
        <dt>Used by</dt>
        <dd>{props.usedBy.map((q) => q.displayName || q.queueId).join(', ') || 'no queue'}</dd>
      </dl>
      <div class="actions">
        <button type="button" onClick={props.onEdit}>
          Edit
        </button>
        <button type="button" aria-expanded={importing} onClick={() => setImporting(!importing)}>
          Import holidays (.ics)
        </button>
        {confirming ? (
          <span class="confirm">
            Delete “{calendar.displayName}”?{' '}
            <button type="button" class="danger" onClick={() => void remove()}>
              Yes, delete
            </button>{' '}
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </span>
        ) : (
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
      </div>
      {importing ? <IcsImport router={props.router} calendar={calendar} onImported={props.onChanged} /> : null}
      <FailureLine failure={failure} what="Not deleted" />
      {failure?.kind === 'conflict' && props.usedBy.length ? (
        <p class="muted small">
          Give {props.usedBy.length === 1 ? 'that queue' : 'those queues'} another calendar (or none) below first.
        </p>
      ) : null}
    </article>
  );
}

export function CalendarsSection(props: {
  router: InteractionRouterServiceClient;
  calendars: Calendar[] | undefined;
  failure: Failure | undefined;
  queues: Queue[];
  onChanged: () => void;
}) {
  const [editing, setEditing] = useState<Editing>();
  const saved = () => {
    setEditing(undefined);
    props.onChanged();
  };
  return (
    <section aria-label="Calendars" class="calendars">
      <div class="section-head">
        <h2>Calendars</h2>
        {editing ? null : (
          <button type="button" class="primary" onClick={() => setEditing({ kind: 'new' })}>
            New calendar
          </button>
        )}
      </div>
      <p class="muted small">When a queue is open. Times are local to each calendar’s time zone, daylight saving included.</p>
      {editing ? (
        <CalendarEditor
          key={editing.kind === 'edit' ? editing.calendar.calendarId : 'new'}
          router={props.router}
          calendar={editing.kind === 'edit' ? editing.calendar : undefined}
          onSaved={saved}
          onCancel={() => setEditing(undefined)}
        />
      ) : null}
      <FailureLine failure={props.failure} what="calendars" />
      <div class="cards">
        {(props.calendars ?? []).map((calendar) => (
          <CalendarCard
            key={calendar.calendarId}
            router={props.router}
            calendar={calendar}
            usedBy={props.queues.filter((q) => q.hours?.calendarId === calendar.calendarId)}
            onEdit={() => setEditing({ kind: 'edit', calendar })}
            onChanged={props.onChanged}
          />
        ))}
      </div>
      <Empty list={props.calendars} text="No calendars: every queue is open around the clock." />
    </section>
  );
}
