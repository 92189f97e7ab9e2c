import { AlertEvent, AlertStatus } from '@mailroute/contracts';
import { eventKey, events, toEventMessage } from './events';
import type { EventBus } from './ports/event-bus.port';

/**
 * What a producer stores with an alert's claim so that any replica can publish it later: the
 * AlertEvent's fields as plain JSON values (epoch milliseconds for times).
 */
export interface AlertPayload {
  /** proto AlertKind. */
  kind: number;
  tenantId: string;
  interactionId?: string | undefined;
  queueId?: string | undefined;
  mailboxId?: string | undefined;
  credentialsId?: string | undefined;
  dueAt?: number | undefined;
  value?: number | undefined;
  threshold?: number | undefined;
  detail?: string | undefined;
}

/** An alert ready to publish: its claim key (the event id), when it was raised, its phase and payload. */
export interface AlertToPublish {
  key: string;
  raisedAt: number;
  /** Unset for one-shot alerts (SLA kinds), which are always FIRING. */
  phase?: 'firing' | 'resolved' | undefined;
  payload: AlertPayload;
}

/** The AlertEvent of an alert. */
function toAlertEvent(alert: AlertToPublish): AlertEvent {
  const { payload } = alert;
  return AlertEvent.fromPartial({
    eventId: alert.key,
    tenantId: payload.tenantId,
    occurredAt: new Date(alert.raisedAt),
    kind: payload.kind,
    status: alert.phase === 'resolved' ? AlertStatus.ALERT_STATUS_RESOLVED : AlertStatus.ALERT_STATUS_FIRING,
    interactionId: payload.interactionId ?? '',
    queueId: payload.queueId ?? '',
    mailboxId: payload.mailboxId ?? '',
    credentialsId: payload.credentialsId ?? '',
    dueAt: payload.dueAt === undefined ? undefined : new Date(payload.dueAt),
    value: payload.value ?? 0,
    threshold: payload.threshold ?? 0,
    detail: payload.detail ?? '',
  });
}

/** The key of an AlertEvent on `mailroute.alert.v1`: `<tenant>/<subject>` (interaction, else mailbox, credentials or queue). */
function alertEventKey(event: AlertEvent): string {
  return eventKey(event.tenantId, event.interactionId || event.mailboxId || event.credentialsId || event.queueId);
}

/** Publishes alerts as AlertEvents on `mailroute.alert.v1` (see alertEventKey). */
export function createAlertEventPublisher(bus: Pick<EventBus, 'publish'>): (alert: AlertToPublish) => Promise<void> {
  return async (alert) => {
    const event = toAlertEvent(alert);
    await bus.publish(events.alert.topic, toEventMessage('alert', alertEventKey(event), event));
  };
}
