import type { RouterStores, WaitingDocument } from '../store/router-stores';
import { interactionKey, keyAfterTenant, tenantPrefix } from '../store/router-keys';
import { forEachLimit } from './for-each-limit';

interface TenantWaiting {
  loadedAt: number;
  entries: Map<string, WaitingDocument>;
  /** Interactions another replica changed since; re-read by `_id` before the next pass. */
  changed: Set<string>;
  /** The view hit its cap: waiting interactions beyond it stay in the store until the view drains to half. */
  capped: boolean;
}

/**
 * The planner's view of the waiting interactions of the tenants it plans (a scan per pass does not
 * scale: FerretDB v1 reads every document of a range). A tenant's waiting index is read whole once,
 * then kept current by this replica's commits (`noteCommitted`) and by other replicas' changes
 * (`observeChange`, from the state-change events), and read whole again after `reloadMs`.
 *
 * Memory is bounded per tenant by `maxEntries`: a view holds at most that many waiting interactions
 * (the first by key when the tenant has more). Beyond the cap, new ones stay in the store's waiting
 * index only; once the view has drained to half the cap it is read again, so they are planned then
 * (in key order, not by age, until the backlog is below the cap again).
 */
export function createWaitingView(deps: {
  stores: Pick<RouterStores, 'waiting'>;
  clock: () => number;
  /** How long a tenant's view is used before it is read whole again. */
  reloadMs: number;
  /** Most waiting interactions held per tenant (the memory bound; see above). */
  maxEntries: number;
}) {
  const { stores, clock, reloadMs } = deps;
  const views = new Map<string, TenantWaiting>();

  /** The tenant's waiting interactions, `[interactionId, entry]`. */
  async function entries(tenantId: string): Promise<Array<[string, WaitingDocument]>> {
    let view = views.get(tenantId);
    if (!view || clock() - view.loadedAt >= reloadMs || (view.capped && view.entries.size <= deps.maxEntries / 2)) {
      // Changes noted while the range is read are re-read after it (the range may predate them).
      const changed = view?.changed ?? new Set<string>();
      const fresh: TenantWaiting = { loadedAt: clock(), entries: new Map(), changed, capped: false };
      // The first view is read again soon: changes published before this replica's event consumer started are not observed.
      if (!view) fresh.loadedAt -= Math.max(0, reloadMs - 5_000);
      views.set(tenantId, fresh);
      const rows = await stores.waiting.list({ prefix: tenantPrefix(tenantId), limit: deps.maxEntries });
      for (const { key, document } of rows) {
        const interactionId = keyAfterTenant(tenantId, key);
        if (!fresh.entries.has(interactionId)) fresh.entries.set(interactionId, document);
      }
      fresh.capped = rows.length >= deps.maxEntries;
      view = fresh;
    }
    const current = view;
    if (current.changed.size > 0) {
      const ids = [...current.changed];
      current.changed.clear();
      await forEachLimit(ids, 16, async (interactionId) => {
        const document = await stores.waiting.get(interactionKey(tenantId, interactionId));
        if (document) keep(current, interactionId, document);
        else current.entries.delete(interactionId);
      });
    }
    return [...current.entries];
  }

  /** Adds or updates an entry, unless it is new and the view is full (it stays in the store for later). */
  function keep(view: TenantWaiting, interactionId: string, entry: WaitingDocument): void {
    if (view.entries.has(interactionId) || view.entries.size < deps.maxEntries) view.entries.set(interactionId, entry);
    else view.capped = true;
  }

  return {
    entries,
    /** This replica wrote (`entry`) or removed (undefined) an interaction's waiting entry. */
    noteCommitted(tenantId: string, interactionId: string, entry: WaitingDocument | undefined): void {
      const view = views.get(tenantId);
      if (!view) return;
      if (entry) keep(view, interactionId, entry);
      else view.entries.delete(interactionId);
    },
    /** Another replica changed an interaction's waiting entry (a state-change event): re-read it before planning. */
    observeChange(tenantId: string, interactionId: string): void {
      views.get(tenantId)?.changed.add(interactionId);
    },
    /** This replica stopped planning the tenant: its view goes stale, so drop it. */
    forget(tenantId: string): void {
      views.delete(tenantId);
    },
  };
}

export type WaitingView = ReturnType<typeof createWaitingView>;
