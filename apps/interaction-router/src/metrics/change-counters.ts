import type { Meter } from '@opentelemetry/api';
import { InteractionState, StateChangeReason } from '@mailroute/contracts';
import type { InteractionHistoryRecord } from '@mailroute/persistence';
import { defaultQueuePolicy } from '@mailroute/routing-engine';
import type { RouterMetricsCore } from './router.metrics';

const R = StateChangeReason;
const S = InteractionState;

/**
 * The router's counters of committed changes (routed, unrouted, discarded, overflowed, offers,
 * timeouts, declines, assignments by whether the wait met the queue threshold, completions):
 * returns the function that counts one committed change (RouterCoreOptions.onCommitted).
 * `coreOf` gives the core once the metrics started (an assignment's threshold is its queue's).
 */
export function createChangeCounters(meter: Meter, coreOf: () => RouterMetricsCore | undefined) {
  const counter = (name: string, description: string) => meter.createCounter(name, { description });
  const routed = counter(
    'mailroute_router_interactions_routed_total',
    'Inbound interactions routed to a queue, by a rule or the mailbox default queue',
  );
  const unrouted = counter(
    'mailroute_router_interactions_unrouted_total',
    'Inbound interactions no rule or default queue routed (UNROUTED)',
  );
  const discarded = counter('mailroute_router_interactions_discarded_total', 'Inbound interactions discarded by a rule');
  const overflowed = counter(
    'mailroute_router_interactions_overflowed_total',
    'Waiting interactions overflowed to another queue (labelled with the target queue)',
  );
  const offers = counter('mailroute_router_offers_total', 'Offers made to agents');
  const timedOut = counter(
    'mailroute_router_offers_timed_out_total',
    'Offers that lapsed without an answer (returned to the queue)',
  );
  const declined = counter('mailroute_router_offers_declined_total', 'Offers declined by the agent');
  const assigned = counter(
    'mailroute_router_interactions_assigned_total',
    'Interactions assigned to an agent (offer accepted or supervisor assignment), by whether the wait met the queue threshold',
  );
  const completed = counter('mailroute_router_interactions_completed_total', 'Interactions completed');

  /** Counts an assignment once the queue's threshold is known (configuration, cached by the core). */
  function countAssignment(entry: InteractionHistoryRecord, by: 'offer' | 'supervisor'): void {
    const labels = { tenant: entry.tenantId, queue: entry.queueId, by };
    const record = entry.interaction;
    const waitMs = (record.assignedAt ?? entry.occurredAt) - (record.queuedAt ?? record.assignedAt ?? entry.occurredAt);
    const core = coreOf();
    const thresholdOf = core
      ? core.queuePolicies(entry.tenantId).then((policies) => policies.get(entry.queueId)?.policy.serviceLevel.thresholdMs)
      : Promise.resolve(undefined);
    void thresholdOf
      .catch(() => undefined)
      .then((thresholdMs) =>
        assigned.add(1, {
          ...labels,
          within_service_level: String(waitMs <= (thresholdMs ?? defaultQueuePolicy.serviceLevel.thresholdMs)),
        }),
      );
  }

  function count(entry: InteractionHistoryRecord): void {
    const tenant = entry.tenantId;
    const queue = { tenant, queue: entry.queueId };
    switch (entry.reason) {
      case R.STATE_CHANGE_REASON_ROUTED:
        return routed.add(1, { ...queue, by: entry.interaction.matchedRuleId ? 'rule' : 'default' });
      case R.STATE_CHANGE_REASON_NO_ROUTE:
        return unrouted.add(1, { tenant });
      case R.STATE_CHANGE_REASON_DISCARDED_BY_RULE:
        return discarded.add(1, { tenant });
      case R.STATE_CHANGE_REASON_OVERFLOWED:
        return overflowed.add(1, queue);
      case R.STATE_CHANGE_REASON_OFFERED:
        return offers.add(1, { ...queue, kind: 'routed' });
      case R.STATE_CHANGE_REASON_OFFERED_BY_AFFINITY:
        return offers.add(1, { ...queue, kind: 'affinity' });
      case R.STATE_CHANGE_REASON_TRANSFERRED_TO_AGENT:
        if (entry.state === S.INTERACTION_STATE_OFFERED) offers.add(1, { ...queue, kind: 'transfer' });
        return;
      case R.STATE_CHANGE_REASON_OFFER_TIMED_OUT:
        return timedOut.add(1, queue);
      case R.STATE_CHANGE_REASON_OFFER_DECLINED:
        return declined.add(1, queue);
      case R.STATE_CHANGE_REASON_OFFER_ACCEPTED:
        return countAssignment(entry, 'offer');
      case R.STATE_CHANGE_REASON_ASSIGNED_BY_SUPERVISOR:
        return countAssignment(entry, 'supervisor');
      case R.STATE_CHANGE_REASON_COMPLETED:
        return completed.add(1, queue);
      default:
        return;
    }
  }

  return count;
}
