import type { QueuePolicies } from '../read-models/config-snapshots';
import type { RouterStores } from '../store/router-stores';
import { createQueueAlertSweep } from './queue-alerts';
import { createRouterAlertClaims, type PublishAlert } from './router-alerts';
import { createSlaAlertRaiser, owingStates, slaClaimMayGo } from './sla-alerts';

/**
 * The router's alert sweep, one pass at a time per replica: relays claims left unpublished for
 * `relayAfterMs` (a key-range read of the pending markers), raises SLA alerts (due soon, breached)
 * and settles queue threshold alerts for the tenants with open work, then prunes claims published
 * `retentionMs` ago whose subject is done (a key-range read of the prune markers). Returns how many
 * alerts it published.
 */
export function createAlertSweep(deps: {
  stores: Pick<RouterStores, 'interactions' | 'alerts' | 'waiting'>;
  clock: () => number;
  queuePolicies: (tenantId: string) => Promise<QueuePolicies>;
  publishAlert: PublishAlert;
  relayAfterMs: number;
  retentionMs: number;
}) {
  const { stores } = deps;
  const claims = createRouterAlertClaims({
    stores,
    clock: deps.clock,
    publishAlert: deps.publishAlert,
    relayAfterMs: deps.relayAfterMs,
    retentionMs: deps.retentionMs,
    mayForget: (_key, payload) => slaClaimMayGo(stores, payload),
  });
  const raiseSlaAlerts = createSlaAlertRaiser({ ...deps, claims });
  const sweepQueueAlerts = createQueueAlertSweep({ ...deps, claims });
  let sweeping: Promise<number> | undefined;

  async function sweepPass(limitPerTenant: number): Promise<number> {
    let published = await claims.relay();
    const tenants = await stores.interactions.tenantsWith(owingStates);
    published += await raiseSlaAlerts(tenants, limitPerTenant);
    published += await sweepQueueAlerts(tenants);
    await claims.prune();
    return published;
  }

  return function sweepAlerts(limitPerTenant = 5_000): Promise<number> {
    sweeping ??= sweepPass(limitPerTenant).finally(() => (sweeping = undefined));
    return sweeping;
  };
}
