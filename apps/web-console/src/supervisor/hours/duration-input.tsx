// A duration as a number and a unit (minutes, hours, days): what a supervisor types for "within 4 hours" or "longest
// wait 30 minutes". Empty means unset (the field's default, or "off" for an alert threshold).
import type { Duration } from '@mailroute/contracts';
import { useState } from 'preact/hooks';

const UNITS = [
  { name: 'minutes', seconds: 60 },
  { name: 'hours', seconds: 3600 },
  { name: 'days', seconds: 86_400 },
] as const;

/** The largest unit that divides the duration evenly: 14400 s → 4 hours. */
function split(duration: Duration | undefined): { amount: string; unit: number } {
  if (!duration?.seconds) return { amount: '', unit: 1 };
  for (let unit = UNITS.length - 1; unit >= 0; unit -= 1) {
    const size = UNITS[unit]?.seconds ?? 60;
    if (duration.seconds % size === 0) return { amount: String(duration.seconds / size), unit };
  }
  return { amount: String(Math.round(duration.seconds / 60)), unit: 0 };
}

export function DurationInput(props: {
  label: string;
  value: Duration | undefined;
  onChange: (value: Duration | undefined) => void;
  placeholder?: string;
}) {
  const [state, setState] = useState(() => split(props.value));
  const update = (next: { amount: string; unit: number }) => {
    setState(next);
    const amount = Number(next.amount);
    const size = UNITS[next.unit]?.seconds ?? 60;
    props.onChange(
      next.amount.trim() === '' || !Number.isFinite(amount) ? undefined : { seconds: Math.round(amount * size), nanos: 0 },
    );
  };
  return (
    <span class="duration" role="group" aria-label={props.label}>
      <input
        type="number"
        min="0"
        step="any"
        aria-label={`${props.label} amount`}
        placeholder={props.placeholder}
        value={state.amount}
        onInput={(e) => update({ ...state, amount: e.currentTarget.value })}
      />
      <select
        aria-label={`${props.label} unit`}
        value={state.unit}
        onChange={(e) => update({ ...state, unit: Number(e.currentTarget.value) })}
      >
        {UNITS.map((unit, index) => (
          <option key={unit.name} value={index}>
            {unit.name}
          </option>
        ))}
      </select>
    </span>
  );
}
