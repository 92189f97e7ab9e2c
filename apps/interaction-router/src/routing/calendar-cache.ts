import type { Calendar } from '@mailroute/contracts';
import { compileCalendar, type BusinessCalendar } from '@mailroute/routing-engine';
import type { StoredConfig } from './config-repository';

/**
 * Compiled business calendars, kept per tenant, calendar and version: a compiled calendar memoises
 * each day's open intervals, so planning many times a second reuses them until the calendar
 * changes. A stored calendar that no longer validates (stricter rules after an upgrade) is left
 * out, so its queues count as always open; `onInvalid` reports it.
 */
export function createCalendarCache(options: { onInvalid?: (calendarId: string, error: unknown) => void } = {}) {
  const compiled = new Map<string, { version: number; calendar: BusinessCalendar }>();
  return {
    compile(tenantId: string, stored: readonly StoredConfig<Calendar>[]): Map<string, BusinessCalendar> {
      const out = new Map<string, BusinessCalendar>();
      for (const item of stored) {
        const key = `${tenantId}/${item.id}`;
        const known = compiled.get(key);
        if (known && known.version === item.version) {
          out.set(item.id, known.calendar);
          continue;
        }
        try {
          const calendar = compileCalendar(item.value);
          compiled.set(key, { version: item.version, calendar });
          out.set(item.id, calendar);
        } catch (error) {
          options.onInvalid?.(item.id, error);
        }
      }
      return out;
    },
  };
}
