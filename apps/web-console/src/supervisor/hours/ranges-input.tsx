// Opening ranges of one day (a weekday or an exception's date): "HH:MM" to "HH:MM", several per day, add and remove.
// Plain text fields (24:00, the end of the day, is a valid closing time that a time picker cannot take); the router
// checks them and names the range it refuses.
import type { TimeRange } from '@mailroute/contracts';

export function RangesInput(props: {
  label: string;
  ranges: TimeRange[];
  onChange: (ranges: TimeRange[]) => void;
  /** The range the router refused (both ends marked when `part` is unset). */
  invalid?: { range: number; part?: 'start' | 'end' } | undefined;
}) {
  const { ranges, onChange } = props;
  const set = (index: number, change: Partial<TimeRange>) =>
    onChange(ranges.map((range, i) => (i === index ? { ...range, ...change } : range)));
  const last = ranges.at(-1);
  const invalid = (index: number, part: 'start' | 'end') =>
    props.invalid?.range === index && (props.invalid.part ?? part) === part ? 'true' : undefined;
  return (
    <div class="ranges" role="group" aria-label={props.label}>
      {ranges.length === 0 ? <span class="muted small">Closed</span> : null}
      {ranges.map((range, index) => (
        <span class="range" key={index}>
          <input
            type="text"
            class="time"
            inputMode="numeric"
            placeholder="09:00"
            aria-label={`${props.label} range ${index + 1} opens`}
            aria-invalid={invalid(index, 'start')}
            value={range.start}
            onInput={(e) => set(index, { start: e.currentTarget.value })}
          />
          <span aria-hidden="true">–</span>
          <input
            type="text"
            class="time"
            inputMode="numeric"
            placeholder="17:00"
            aria-label={`${props.label} range ${index + 1} closes`}
            aria-invalid={invalid(index, 'end')}
            value={range.end}
            onInput={(e) => set(index, { end: e.currentTarget.value })}
          />
          <button
            type="button"
            class="icon"
            aria-label={`Remove ${props.label} range ${index + 1}`}
            title="Remove this range"
            onClick={() => onChange(ranges.filter((_, i) => i !== index))}
          >
            ×
          </button>
        </span>
      ))}
      <button
        type="button"
        class="link small"
        aria-label={`Add a range to ${props.label}`}
        onClick={() => onChange([...ranges, last ? { start: last.end, end: '' } : { start: '09:00', end: '17:00' }])}
      >
        + range
      </button>
    </div>
  );
}
