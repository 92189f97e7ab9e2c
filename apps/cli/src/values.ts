import type { Duration } from '@mailroute/contracts';
import { UsageError } from './errors';

const durationUnits: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3_600, d: 86_400 };

/**
 * Parses a duration as operators write it: `90s`, `15m`, `4h`, `7d`, `500ms`, or a combination
 * such as `1h30m`. A bare number is refused (the unit is never guessed).
 */
export function parseDuration(text: string, option: string): Duration {
  const trimmed = text.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let seconds = 0;
  let consumed = 0;
  for (let match = part.exec(trimmed); match; match = part.exec(trimmed)) {
    seconds += Number(match[1]) * (durationUnits[match[2] ?? 's'] ?? 1);
    consumed = part.lastIndex;
  }
  if (trimmed.length === 0 || consumed !== trimmed.length) {
    throw new UsageError(`${option}: "${text}" is not a duration (use e.g. 90s, 15m, 4h, 7d or 1h30m)`);
  }
  const whole = Math.floor(seconds);
  return { seconds: whole, nanos: Math.round((seconds - whole) * 1e9) };
}

/** Seconds of a Duration (fractions kept). */
export function durationSeconds(duration: Duration): number {
  return duration.seconds + duration.nanos / 1e9;
}

/**
 * Looks up a value of a ts-proto enum from what a user typed: `least-occupied`, `LEAST_OCCUPIED`
 * or the full `QUEUE_STRATEGY_LEAST_OCCUPIED` all name `QueueStrategy.QUEUE_STRATEGY_LEAST_OCCUPIED`.
 * `UNSPECIFIED` and `UNRECOGNIZED` are never accepted; the error lists the choices.
 */
export function parseEnum<T extends number>(
  enumObject: Record<string, string | number>,
  prefix: string,
  text: string,
  option: string,
): T {
  const name = text.trim().toUpperCase().replaceAll('-', '_');
  const full = name.startsWith(`${prefix}_`) ? name : `${prefix}_${name}`;
  const value = enumObject[full];
  if (typeof value === 'number' && !full.endsWith('_UNSPECIFIED')) return value as T;
  throw new UsageError(`${option}: "${text}" is not one of ${enumChoices(enumObject, prefix).join(', ')}`);
}

/** The user-facing names of an enum's values, e.g. `longest-idle`, `least-occupied`. */
export function enumChoices(enumObject: Record<string, string | number>, prefix: string): string[] {
  return Object.keys(enumObject)
    .filter((key) => key.startsWith(`${prefix}_`) && !key.endsWith('_UNSPECIFIED') && typeof enumObject[key] === 'number')
    .map((key) =>
      key
        .slice(prefix.length + 1)
        .toLowerCase()
        .replaceAll('_', '-'),
    );
}

/** The short display name of an enum value: `INTERACTION_STATE_QUEUED` → `QUEUED`. */
export function enumLabel(enumObject: Record<string | number, string | number>, prefix: string, value: number): string {
  const name = enumObject[value];
  if (typeof name !== 'string') return String(value);
  return name.startsWith(`${prefix}_`) ? name.slice(prefix.length + 1) : name;
}

/** A skill with a level: `billing` (level 1) or `billing:7`. */
export function parseSkill(text: string, option: string): { skill: string; level: number } {
  const match = /^([a-z][a-z0-9-]{0,62})(?::(\d{1,2}))?$/.exec(text.trim());
  const level = match?.[2] === undefined ? 1 : Number(match[2]);
  if (!match?.[1] || level < 1 || level > 10) {
    throw new UsageError(`${option}: "${text}" must be a skill id with an optional level 1-10, e.g. billing or billing:7`);
  }
  return { skill: match[1], level };
}

/** An integer option within bounds. */
export function parseInteger(text: string, option: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`${option}: "${text}" is not a whole number`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${option}: must be between ${min} and ${max}`);
  return value;
}

/** A point in time: an ISO 8601 date or date-time (`2027-05-31`, `2027-05-31T12:00:00Z`), or `+<days>d`. */
export function parseInstant(text: string, option: string, now: Date = new Date()): Date {
  const relative = /^\+(\d{1,5})d$/.exec(text.trim());
  if (relative) return new Date(now.getTime() + Number(relative[1]) * 86_400_000);
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text.trim()) ? new Date(`${text.trim()}T00:00:00Z`) : new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${option}: "${text}" is not a date (use 2027-05-31, 2027-05-31T12:00:00Z or +730d)`);
  }
  return date;
}
