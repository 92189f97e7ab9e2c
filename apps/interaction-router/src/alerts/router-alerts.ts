import { createAlertEventPublisher, type AlertPayload, type AlertToPublish, type EventBus } from '@mailroute/messaging';
import { createAlertClaims, type AlertClaims } from '@mailroute/persistence';
import type { RouterStores } from '../store/router-stores';

/** Where the router's AlertEvents go (the bus's alert topic; a port so a failing bus can be simulated). */
export type PublishAlert = (alert: AlertToPublish) => Promise<void>;

/** Publishes the router's alerts as AlertEvents on `mailroute.alert.v1`. */
export function createAlertPublisher(bus: EventBus): PublishAlert {
  return createAlertEventPublisher(bus);
}

/** The router's alert claims (SLA and queue alerts) in `router_alerts`. */
export type RouterAlertClaims = AlertClaims<AlertPayload>;

/**
 * The router's alert claims over `stores.alerts` (see createAlertClaims): raised once across
 * replicas, relayed after `relayAfterMs`, pruned `retentionMs` after publication — an SLA claim only
 * once `mayForget` says its interaction can no longer raise it.
 */
export function createRouterAlertClaims(deps: {
  stores: Pick<RouterStores, 'alerts'>;
  clock: () => number;
  publishAlert: PublishAlert;
  relayAfterMs: number;
  retentionMs: number;
  mayForget: (key: string, payload: AlertPayload) => Promise<boolean>;
}): RouterAlertClaims {
  return createAlertClaims<AlertPayload>({
    table: deps.stores.alerts,
    clock: deps.clock,
    publish: deps.publishAlert,
    relayAfterMs: deps.relayAfterMs,
    retentionMs: deps.retentionMs,
    mayForget: (key, row) => deps.mayForget(key, row.payload),
  });
}
