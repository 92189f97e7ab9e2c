import type { Queue } from '@mailroute/contracts';
import { compileRuleSet, toQueuePolicy, type QueuePolicy } from '@mailroute/routing-engine';
import { createCalendarCache } from '../routing/calendar-cache';
import type { ConfigKind, ConfigRepository } from '../routing/config-repository';

/** A tenant's queues with their engine policies, by queue id. */
export type QueuePolicies = Map<string, { policy: QueuePolicy; queue: Queue }>;

const kinds: readonly ConfigKind[] = ['queue', 'agent', 'rule', 'senderList', 'calendar'];

/**
 * Tenant configuration as planning and intake read it, many times a second: each kind's list is
 * reused for `cacheMs`, the compiled rule set for `ruleSetCacheMs`; `invalidate` drops a tenant's
 * (after a change through this replica's API). Queues' business calendars are compiled once per
 * calendar version (routing/calendar-cache.ts); one that no longer validates is reported to
 * `onInvalidCalendar` and its queues count as always open.
 */
export function createConfigSnapshots(deps: {
  config: ConfigRepository;
  clock: () => number;
  cacheMs: number;
  ruleSetCacheMs: number;
  onInvalidCalendar?: (calendarId: string, error: unknown) => void;
}) {
  const { config, clock } = deps;
  const calendarCache = createCalendarCache(deps.onInvalidCalendar ? { onInvalid: deps.onInvalidCalendar } : {});
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  const ruleSets = new Map<string, { at: number; set: ReturnType<typeof compileRuleSet> }>();
  const cacheKey = (tenantId: string, kind: ConfigKind) => `${tenantId}/${kind}`;
  /** Single objects read by `cachedGet`, per tenant (so `invalidate` drops a tenant's at once). */
  const objects = new Map<string, Map<string, { at: number; value: Promise<unknown> }>>();

  function cachedAll<K extends ConfigKind>(tenantId: string, kind: K): ReturnType<typeof config.all<K>> {
    const key = cacheKey(tenantId, kind);
    const hit = cache.get(key);
    if (hit && clock() - hit.at < deps.cacheMs) return hit.value as ReturnType<typeof config.all<K>>;
    const value = config.all(tenantId, kind);
    cache.set(key, { at: clock(), value });
    value.catch(() => cache.delete(key));
    return value;
  }

  /**
   * One configuration object, reused for `cacheMs` like the lists: a reply reads its agent, queue,
   * mailbox settings, signature rule and templates for the signature, and re-reading them from the
   * store for every reply cost four to six reads (each a range read on FerretDB v1).
   */
  function cachedGet<K extends ConfigKind>(tenantId: string, kind: K, id: string): ReturnType<typeof config.get<K>> {
    let tenant = objects.get(tenantId);
    if (!tenant) objects.set(tenantId, (tenant = new Map()));
    const key = `${kind}/${id}`;
    const hit = tenant.get(key);
    if (hit && clock() - hit.at < deps.cacheMs) return hit.value as ReturnType<typeof config.get<K>>;
    const value = config.get(tenantId, kind, id);
    const entries = tenant;
    entries.set(key, { at: clock(), value });
    value.catch(() => entries.delete(key));
    return value;
  }

  return {
    cachedAll,
    cachedGet,
    invalidate(tenantId: string): void {
      for (const kind of kinds) cache.delete(cacheKey(tenantId, kind));
      objects.delete(tenantId);
      ruleSets.delete(tenantId);
    },
    async queuePolicies(tenantId: string): Promise<QueuePolicies> {
      const [queues, calendars] = await Promise.all([
        cachedAll(tenantId, 'queue'),
        cachedAll(tenantId, 'calendar').then((stored) => calendarCache.compile(tenantId, stored)),
      ]);
      return new Map(
        queues.map((q) => [q.id, { policy: toQueuePolicy({ ...q.value, queueId: q.id }, calendars), queue: q.value }]),
      );
    },
    /** The tenant's routing rules compiled in evaluation order (position, then id), with its sender lists. */
    async ruleSet(tenantId: string): Promise<ReturnType<typeof compileRuleSet>> {
      const cached = ruleSets.get(tenantId);
      if (cached && clock() - cached.at < deps.ruleSetCacheMs) return cached.set;
      const [rules, lists] = await Promise.all([cachedAll(tenantId, 'rule'), cachedAll(tenantId, 'senderList')]);
      const set = compileRuleSet(
        rules
          .map((r) => ({ ...r.value, ruleId: r.id }))
          .sort((a, b) => a.position - b.position || a.ruleId.localeCompare(b.ruleId)),
        lists.map((l) => ({ ...l.value, senderListId: l.id })),
      );
      ruleSets.set(tenantId, { at: clock(), set });
      return set;
    },
  };
}

export type ConfigSnapshots = ReturnType<typeof createConfigSnapshots>;
