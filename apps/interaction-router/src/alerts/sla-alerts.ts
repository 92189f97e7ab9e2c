import { AlertKind, InteractionState, SlaState } from '@mailroute/contracts';
import type { QueuePolicies } from '../read-models/config-snapshots';
import { alertKey } from '../store/router-keys';
import type { RouterStores } from '../store/router-stores';
import type { RouterAlertClaims } from './router-alerts';
import { interactionSlaState } from './sla-status';

const S = InteractionState;

/** Interactions that still owe their first response: waiting in a queue, offered, or held by an agent. */
export const owingStates = [S.INTERACTION_STATE_QUEUED, S.INTERACTION_STATE_OFFERED, S.INTERACTION_STATE_ASSIGNED];

/** The alert an SLA state raises, and the kind's name in the claim key (and event id). */
const alertOf: ReadonlyMap<SlaState, { kind: AlertKind; name: string }> = new Map([
  [SlaState.SLA_STATE_DUE_SOON, { kind: AlertKind.ALERT_KIND_SLA_DUE_SOON, name: 'sla-due-soon' }],
  [SlaState.SLA_STATE_BREACHED, { kind: AlertKind.ALERT_KIND_SLA_BREACHED, name: 'sla-breached' }],
]);

/**
 * Whether an SLA claim may be pruned: its interaction is gone or no longer owes its first response
 * (so it cannot be due soon or breached again). One `_id` read.
 */
export async function slaClaimMayGo(
  stores: Pick<RouterStores, 'interactions'>,
  payload: { tenantId: string; interactionId?: string | undefined },
): Promise<boolean> {
  if (!payload.interactionId) return true;
  const record = await stores.interactions.get(payload.tenantId, payload.interactionId);
  return !record || !owingStates.includes(record.state);
}

/**
 * Raises SLA alerts: each interaction that owes its first response and is due soon or breached at
 * the sweep's `now` gets one AlertEvent per kind (one-shot claims `<tenant>/<interaction>/<kind>`,
 * also the event id), whichever replica sweeps and however often. Reads each given tenant's owing
 * interactions (at most `limitPerTenant`, oldest queued first); a claim known to this replica costs
 * no read, one raised elsewhere one `_id` read.
 *
 * An interaction is alerted for the state it is in when swept: one that is already breached when
 * first seen gets the breach alert only (a due-soon alert then would be stale).
 */
export function createSlaAlertRaiser(deps: {
  stores: Pick<RouterStores, 'interactions'>;
  clock: () => number;
  queuePolicies: (tenantId: string) => Promise<QueuePolicies>;
  claims: RouterAlertClaims;
}) {
  const { stores } = deps;
  return async function raiseSlaAlerts(tenants: readonly string[], limitPerTenant: number): Promise<number> {
    const now = deps.clock();
    let published = 0;
    for (const tenantId of tenants) {
      const [records, policies] = await Promise.all([
        stores.interactions.listByState(tenantId, owingStates, limitPerTenant),
        deps.queuePolicies(tenantId),
      ]);
      for (const record of records) {
        const alert = alertOf.get(interactionSlaState(record, policies, now));
        if (!alert || record.serviceLevelDueAt === undefined) continue;
        const raised = await deps.claims.raiseOnce(alertKey(tenantId, record.interactionId, alert.name), {
          kind: alert.kind,
          tenantId,
          interactionId: record.interactionId,
          queueId: record.queueId ?? '',
          dueAt: record.serviceLevelDueAt,
        });
        if (raised) published += 1;
      }
    }
    return published;
  };
}
