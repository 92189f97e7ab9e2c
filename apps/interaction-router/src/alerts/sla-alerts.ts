import { AlertEvent, AlertKind, AlertStatus, InteractionState, SlaState } from '@mailroute/contracts';
import { eventKey, events, toEventMessage, type EventBus } from '@mailroute/messaging';
import type { QueuePolicies } from '../read-models/config-snapshots';
import { alertKey } from '../store/router-keys';
import type { AlertDocument, RouterStores } from '../store/router-stores';
import { interactionSlaState } from './sla-status';

/** Where the sweep's AlertEvents go (the bus's alert topic; a port so a failing bus can be simulated). */
export type PublishAlert = (event: AlertEvent) => Promise<void>;

/** Publishes AlertEvents on `mailroute.alert.v1`, keyed `<tenant>/<interaction>`. */
export function createAlertPublisher(bus: EventBus): PublishAlert {
  return (event) =>
    bus.publish(events.alert.topic, toEventMessage('alert', eventKey(event.tenantId, event.interactionId), event));
}

const S = InteractionState;

/** Interactions that still owe their first response: waiting in a queue, offered, or held by an agent. */
const owingStates = [S.INTERACTION_STATE_QUEUED, S.INTERACTION_STATE_OFFERED, S.INTERACTION_STATE_ASSIGNED];

/** The alert an SLA state raises, and the kind's name in the claim key (and event id). */
const alertOf: ReadonlyMap<SlaState, { kind: AlertKind; name: string }> = new Map([
  [SlaState.SLA_STATE_DUE_SOON, { kind: AlertKind.ALERT_KIND_SLA_DUE_SOON, name: 'sla-due-soon' }],
  [SlaState.SLA_STATE_BREACHED, { kind: AlertKind.ALERT_KIND_SLA_BREACHED, name: 'sla-breached' }],
]);

function toAlertEvent(key: string, document: AlertDocument): AlertEvent {
  const [tenantId = '', interactionId = ''] = key.split('/');
  return AlertEvent.fromPartial({
    eventId: key,
    tenantId,
    occurredAt: new Date(document.raisedAt),
    kind: document.kind,
    status: AlertStatus.ALERT_STATUS_FIRING,
    interactionId,
    queueId: document.queueId,
    dueAt: new Date(document.dueAt),
  });
}

/**
 * Raises SLA alerts: each interaction that owes its first response and is due soon or breached at
 * the sweep's `now` gets one AlertEvent per kind, whichever replica sweeps and however often. The
 * sweep first claims `<tenant>/<interaction>/<kind>` in the alerts table (a unique insert: one
 * replica wins), then publishes with that key as the event id and records it as published. A claim
 * left unpublished (its claimer died, or the bus failed) is published by a later sweep once it is
 * `relayAfterMs` old — younger ones may still be in flight on the replica that claimed them.
 *
 * An interaction is alerted for the state it is in when swept: one that is already breached when
 * first seen gets the breach alert only (a due-soon alert then would be stale).
 */
export function createSlaAlertSweep(deps: {
  stores: Pick<RouterStores, 'interactions' | 'alerts'>;
  clock: () => number;
  queuePolicies: (tenantId: string) => Promise<QueuePolicies>;
  publishAlert: PublishAlert;
  relayAfterMs: number;
}) {
  const { stores } = deps;
  let sweeping: Promise<number> | undefined;

  async function publishClaim(key: string, document: AlertDocument): Promise<void> {
    await deps.publishAlert(toAlertEvent(key, document));
    await stores.alerts.put(key, { ...document, publishedAt: deps.clock() });
  }

  async function sweepPass(limitPerTenant: number): Promise<number> {
    const now = deps.clock();
    let published = 0;
    for (const { key, document } of await stores.alerts.list({ prefix: '', limit: 100_000 })) {
      if (document.publishedAt !== undefined || now - document.raisedAt < deps.relayAfterMs) continue;
      await publishClaim(key, document);
      published += 1;
    }
    for (const tenantId of await stores.interactions.tenantsWith(owingStates)) {
      const [records, policies] = await Promise.all([
        stores.interactions.listByState(tenantId, owingStates, limitPerTenant),
        deps.queuePolicies(tenantId),
      ]);
      for (const record of records) {
        const alert = alertOf.get(interactionSlaState(record, policies, now));
        if (!alert || record.serviceLevelDueAt === undefined) continue;
        const key = alertKey(tenantId, record.interactionId, alert.name);
        const document: AlertDocument = {
          kind: alert.kind,
          queueId: record.queueId ?? '',
          dueAt: record.serviceLevelDueAt,
          raisedAt: now,
        };
        if (!(await stores.alerts.insert(key, document))) continue; // raised before (by this replica or another)
        await publishClaim(key, document);
        published += 1;
      }
    }
    return published;
  }

  /** One pass (at a time per replica): relays old unpublished claims, then raises new alerts; returns how many were published. */
  return function sweepSlaAlerts(limitPerTenant = 5_000): Promise<number> {
    sweeping ??= sweepPass(limitPerTenant).finally(() => (sweeping = undefined));
    return sweeping;
  };
}
