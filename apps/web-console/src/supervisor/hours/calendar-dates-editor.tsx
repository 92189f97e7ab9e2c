// The dated parts of a calendar: holidays (closed all day, one date or a range of dates) and exceptions (one date's
// own hours: open on a holiday, close early, or closed all day).
import type { ExceptionDraft, HolidayDraft, InvalidRange } from './calendar-draft';
import { RangesInput } from './ranges-input';

function replaceAt<T>(list: T[], index: number, change: Partial<T>): T[] {
  return list.map((item, i) => (i === index ? { ...item, ...change } : item));
}

export function HolidaysEditor(props: { holidays: HolidayDraft[]; onChange: (holidays: HolidayDraft[]) => void }) {
  const { holidays, onChange } = props;
  return (
    <fieldset class="dates" aria-label="Holidays">
      <legend>Holidays</legend>
      <p class="muted small">Closed all day. Leave “last day” empty for a single date.</p>
      {holidays.map((holiday, index) => (
        <div class="date-row" key={index} data-testid="holiday-row">
          <label>
            Name
            <input
              type="text"
              value={holiday.name}
              onInput={(e) => onChange(replaceAt(holidays, index, { name: e.currentTarget.value }))}
            />
          </label>
          <label>
            First day
            <input
              type="date"
              value={holiday.startDate}
              onInput={(e) => onChange(replaceAt(holidays, index, { startDate: e.currentTarget.value }))}
            />
          </label>
          <label>
            Last day
            <input
              type="date"
              value={holiday.endDate}
              onInput={(e) => onChange(replaceAt(holidays, index, { endDate: e.currentTarget.value }))}
            />
          </label>
          <button
            type="button"
            class="icon"
            aria-label={`Remove holiday ${index + 1}`}
            onClick={() => onChange(holidays.filter((_, i) => i !== index))}
          >
            ×
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...holidays, { name: '', startDate: '', endDate: '' }])}>
        Add holiday
      </button>
    </fieldset>
  );
}

export function ExceptionsEditor(props: {
  exceptions: ExceptionDraft[];
  onChange: (exceptions: ExceptionDraft[]) => void;
  invalid?: InvalidRange | undefined;
}) {
  const { exceptions, onChange } = props;
  return (
    <fieldset class="dates" aria-label="Exceptions">
      <legend>Exceptions</legend>
      <p class="muted small">
        One date’s own hours, instead of its weekday’s or a holiday: open on a holiday, close early, or closed.
      </p>
      {exceptions.map((exception, index) => (
        <div class="date-row" key={index} data-testid="exception-row">
          <label>
            Date
            <input
              type="date"
              value={exception.date}
              onInput={(e) => onChange(replaceAt(exceptions, index, { date: e.currentTarget.value }))}
            />
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={exception.closed}
              onChange={(e) => onChange(replaceAt(exceptions, index, { closed: e.currentTarget.checked }))}
            />
            Closed all day
          </label>
          {exception.closed ? null : (
            <RangesInput
              label={`Exception ${index + 1}`}
              ranges={exception.ranges}
              onChange={(ranges) => onChange(replaceAt(exceptions, index, { ranges }))}
              invalid={props.invalid?.exception === index ? props.invalid : undefined}
            />
          )}
          <label>
            Note
            <input
              type="text"
              value={exception.note}
              onInput={(e) => onChange(replaceAt(exceptions, index, { note: e.currentTarget.value }))}
            />
          </label>
          <button
            type="button"
            class="icon"
            aria-label={`Remove exception ${index + 1}`}
            onClick={() => onChange(exceptions.filter((_, i) => i !== index))}
          >
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        onClick={() =>
          onChange([...exceptions, { date: '', closed: false, ranges: [{ start: '09:00', end: '12:00' }], note: '' }])
        }
      >
        Add exception
      </button>
    </fieldset>
  );
}
