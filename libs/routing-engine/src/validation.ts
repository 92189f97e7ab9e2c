import type { Duration, SkillRequirement } from '@mailroute/contracts';
import type { FieldViolation } from './errors';

/** Resource ids (common.proto): 1-63 of a-z 0-9 '-', starting with a letter, not ending with '-'. */
const resourceIdPattern = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Tags and skill ids share the resource-id shape (tags may start with a digit). */
const tagPattern = /^[a-z0-9](?:[a-z0-9-]{0,62})$/;
const addressPattern = /^[^\s@<>]+@[^\s@<>]+$/;
const domainPattern = /^(?=.{1,255}$)[^\s@<>*.]+(?:\.[^\s@<>*.]+)*$/;

export const isResourceId = (value: string): boolean => resourceIdPattern.test(value);
export const isTag = (value: string): boolean => tagPattern.test(value);
export const isEmailAddress = (value: string): boolean => value.length <= 320 && addressPattern.test(value);
export const isDomain = (value: string): boolean => domainPattern.test(value);

/** Duration → milliseconds (nanos rounded down to whole milliseconds). */
export function durationToMillis(duration: Duration): number {
  return duration.seconds * 1000 + Math.floor(duration.nanos / 1e6);
}

/** Collects field violations under a path prefix. */
export class Violations {
  readonly list: FieldViolation[] = [];

  constructor(private readonly prefix = '') {}

  add(field: string, message: string): void {
    this.list.push({ field: this.prefix ? `${this.prefix}.${field}` : field, message });
  }

  text(field: string, value: string, { min = 0, max }: { min?: number; max: number }): void {
    if (value.length < min) this.add(field, min === 1 ? 'is required' : `must have at least ${min} characters`);
    else if (value.length > max) this.add(field, `must have at most ${max} characters`);
  }

  count(field: string, values: readonly unknown[], max: number): boolean {
    if (values.length > max) {
      this.add(field, `must have at most ${max} entries`);
      return false;
    }
    return true;
  }

  integer(field: string, value: number, min: number, max: number): void {
    if (!Number.isInteger(value) || value < min || value > max) this.add(field, `must be an integer from ${min} to ${max}`);
  }

  duration(field: string, value: Duration | undefined, minMs: number, maxMs: number, label: string): void {
    if (!value) return;
    const ms = durationToMillis(value);
    if (!Number.isFinite(ms) || value.nanos < 0 || value.seconds < 0 || ms < minMs || ms > maxMs)
      this.add(field, `must be ${label}`);
  }

  skills(field: string, requirements: readonly SkillRequirement[], max: number): void {
    if (!this.count(field, requirements, max)) return;
    const seen = new Set<string>();
    requirements.forEach(({ skill, minLevel }, index) => {
      if (!isResourceId(skill))
        this.add(`${field}[${index}].skill`, 'must be 1-63 characters of a-z, 0-9 and -, starting with a letter');
      else if (seen.has(skill)) this.add(`${field}[${index}].skill`, `names ${skill} twice`);
      seen.add(skill);
      this.integer(`${field}[${index}].min_level`, minLevel, 0, 10);
    });
  }
}
