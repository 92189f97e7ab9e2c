// Imports an iCalendar (.ics) file's all-day events as holidays of a calendar: ImportCalendarHolidays, as the CLI's
// `calendar import-holidays` does. The router parses the file (recurring events expanded over the chosen dates,
// timed events skipped and listed); the console only reads the file the supervisor picks.
import type { Calendar, ImportCalendarHolidaysResponse, InteractionRouterServiceClient } from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import { toFailure, type Failure } from '../../api/errors';
import { FailureLine } from '../shared';

const isoDate = (date: Date) => date.toISOString().slice(0, 10);

export function IcsImport(props: { router: InteractionRouterServiceClient; calendar: Calendar; onImported: () => void }) {
  const thisYear = new Date().getFullYear();
  const [file, setFile] = useState<File>();
  const [fromDate, setFromDate] = useState(isoDate(new Date()));
  const [toDate, setToDate] = useState(`${thisYear + 1}-12-31`);
  const [replace, setReplace] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ImportCalendarHolidaysResponse>();
  const [failure, setFailure] = useState<Failure>();
  const run = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setFailure(undefined);
    setResult(undefined);
    try {
      const response = await props.router.importCalendarHolidays({
        calendarId: props.calendar.calendarId,
        icalendar: await file.text(),
        fromDate,
        toDate,
        replace,
        etag: '',
      });
      setResult(response);
      props.onImported();
    } catch (error) {
      setFailure(toFailure(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="ics-import" aria-label={`Import holidays into ${props.calendar.displayName}`} onSubmit={run}>
      <div class="filters">
        <label>
          iCalendar file (.ics)
          <input type="file" accept=".ics,text/calendar" onChange={(e) => setFile(e.currentTarget.files?.[0])} />
        </label>
        <label>
          From
          <input type="date" value={fromDate} onInput={(e) => setFromDate(e.currentTarget.value)} />
        </label>
        <label>
          To
          <input type="date" value={toDate} onInput={(e) => setToDate(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.currentTarget.checked)} />
          Replace the current holidays
        </label>
        <button type="submit" disabled={!file || busy}>
          {busy ? 'Importing…' : 'Import'}
        </button>
      </div>
      <p class="muted small">
        All-day events become holidays; yearly events are repeated from “From” to “To”; timed events are skipped.
      </p>
      {result ? (
        <div role="status" data-testid="import-result">
          <p class="ok-line">
            {result.imported} {result.imported === 1 ? 'holiday' : 'holidays'} imported ({result.calendar?.holidays.length ?? 0}{' '}
            in all).
          </p>
          {result.skipped.length ? (
            <ul class="small muted">
              {result.skipped.map((line) => (
                <li key={line}>Skipped: {line}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <FailureLine failure={failure} what="Import" />
    </form>
  );
}
