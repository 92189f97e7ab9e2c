// Creates or edits a business calendar: name, IANA time zone (searchable: type to filter the browser's list of
// zones), weekly hours with several ranges per day, holidays and exceptions. CreateCalendar / UpdateCalendar (with
// the etag, so a concurrent change is refused rather than overwritten); the router's refusal is shown beside the
// Save button, with the field it names said in the form's words.
import type { Calendar, InteractionRouterServiceClient } from '@mailroute/contracts';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { toFailure, type Failure } from '../../api/errors';
import { FailureLine } from '../shared';
import { ExceptionsEditor, HolidaysEditor } from './calendar-dates-editor';
import {
  calendarOf,
  describeCalendarField,
  draftOf,
  invalidRangeOf,
  stillInvalid,
  WEEKDAYS,
  type CalendarDraft,
} from './calendar-draft';
import { RangesInput } from './ranges-input';

const WRITABLE_FIELDS = ['display_name', 'time_zone', 'weekly_hours', 'holidays', 'exceptions'];

/** The zones the browser knows (IANA names), for the time-zone field's suggestions. */
function timeZones(): string[] {
  const zones = Intl.supportedValuesOf('timeZone');
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

export function CalendarEditor(props: {
  router: InteractionRouterServiceClient;
  calendar?: Calendar;
  onSaved: (calendar: Calendar) => void;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState<CalendarDraft>(() => draftOf(props.calendar));
  const [failure, setFailure] = useState<Failure>();
  const formRef = useRef<HTMLFormElement>(null);
  // Opened from a button further down the page: bring the form into view.
  useEffect(() => formRef.current?.scrollIntoView({ block: 'start' }), []);
  const [saving, setSaving] = useState(false);
  // What was sent when the router refused it: its field paths index that request, not later edits.
  const [sent, setSent] = useState<CalendarDraft>(draft);
  const zones = useMemo(timeZones, []);
  const isNew = !props.calendar;
  const change = (patch: Partial<CalendarDraft>) => setDraft((current) => ({ ...current, ...patch }));
  const setDay = (index: number, ranges: CalendarDraft['days'][number]) =>
    change({ days: draft.days.map((day, i) => (i === index ? ranges : day)) });

  const save = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setFailure(undefined);
    setSent(draft);
    try {
      const calendar = calendarOf(draft);
      const response = isNew
        ? await props.router.createCalendar({ calendarId: draft.calendarId.trim(), calendar })
        : await props.router.updateCalendar({
            calendarId: draft.calendarId,
            calendar,
            updateMask: WRITABLE_FIELDS,
            etag: draft.etag,
          });
      if (response.calendar) props.onSaved(response.calendar);
    } catch (error) {
      setFailure(toFailure(error));
    } finally {
      setSaving(false);
    }
  };
  const where = failure?.kind === 'invalid' ? describeCalendarField(failure.message, sent) : undefined;
  // The field the router refused stays marked until it is edited.
  const invalid = failure?.kind === 'invalid' ? stillInvalid(invalidRangeOf(failure.message, sent), sent, draft) : undefined;
  return (
    <form
      class="card calendar-editor"
      ref={formRef}
      aria-label={isNew ? 'New calendar' : `Edit calendar ${draft.displayName}`}
      onSubmit={save}
    >
      <h3>{isNew ? 'New calendar' : `Edit “${props.calendar?.displayName ?? ''}”`}</h3>
      <div class="filters">
        {isNew ? (
          <label>
            Id (optional)
            <input
              type="text"
              value={draft.calendarId}
              placeholder="e.g. berlin-office"
              onInput={(e) => change({ calendarId: e.currentTarget.value })}
            />
          </label>
        ) : null}
        <label>
          Name
          <input type="text" required value={draft.displayName} onInput={(e) => change({ displayName: e.currentTarget.value })} />
        </label>
        <label>
          Time zone
          <input
            type="search"
            list="time-zones"
            autoComplete="off"
            placeholder="Type to search, e.g. Berlin"
            value={draft.timeZone}
            onInput={(e) => change({ timeZone: e.currentTarget.value })}
          />
          <datalist id="time-zones">
            {zones.map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        </label>
      </div>
      <fieldset class="week" aria-label="Opening hours">
        <legend>Opening hours (local time in {draft.timeZone || 'the time zone'})</legend>
        {WEEKDAYS.map((day, index) => (
          <div class="week-day" key={day}>
            <span class="day-name">{day}</span>
            <RangesInput
              label={day}
              ranges={draft.days[index] ?? []}
              onChange={(ranges) => setDay(index, ranges)}
              invalid={invalid?.day === index ? invalid : undefined}
            />
          </div>
        ))}
        <p class="muted small">A range past midnight is two ranges: 22:00–24:00 and the next day 00:00–02:00.</p>
      </fieldset>
      <HolidaysEditor holidays={draft.holidays} onChange={(holidays) => change({ holidays })} />
      <ExceptionsEditor
        exceptions={draft.exceptions}
        onChange={(exceptions) => change({ exceptions })}
        invalid={invalid?.exception !== undefined ? invalid : undefined}
      />
      <div class="actions form-actions">
        <button type="submit" class="primary" disabled={saving}>
          {saving ? 'Saving…' : isNew ? 'Create calendar' : 'Save calendar'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      {where ? (
        <p class="error field-where" role="status" data-testid="failure-field">
          Check: {where}
        </p>
      ) : null}
      <FailureLine failure={failure} />
    </form>
  );
}
