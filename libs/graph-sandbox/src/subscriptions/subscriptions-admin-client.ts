import { adminRequest } from '../admin/admin-http';
import type { NotificationFault, NotificationFaultInput } from './notification-faults';
import type { DeliveryRecord, LifecycleEvent, toSubscriptionView } from './subscription-registry';

export type SubscriptionAdminView = ReturnType<typeof toSubscriptionView> & {
  tenantId: string;
  mailboxId: string;
  paused: boolean;
  heldNotifications: number;
};
export type { DeliveryRecord, LifecycleEvent, NotificationFault, NotificationFaultInput };

/** The change-notification part of the sandbox's admin API (see subscriptions-admin.routes.ts). */
export class SubscriptionsAdminClient {
  constructor(readonly adminUrl: string) {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return adminRequest<T>(this.adminUrl, method, path, body);
  }

  /** Every live subscription, optionally of one tenant. */
  list = (tenantId?: string) =>
    this.call<{ value: SubscriptionAdminView[] }>(
      'GET',
      `/subscriptions${tenantId ? `?tenantId=${encodeURIComponent(tenantId)}` : ''}`,
    );
  /** Sends a lifecycle notification; `subscriptionRemoved` deletes the subscription first, as the service does. */
  signal = (subscriptionId: string, event: LifecycleEvent) =>
    this.call<void>('POST', `/subscriptions/${encodeURIComponent(subscriptionId)}/lifecycle`, { event });
  /** What the sandbox posted (or withheld) to subscribers. */
  deliveries = (subscriptionId?: string) =>
    this.call<{ value: DeliveryRecord[] }>(
      'GET',
      `/notifications${subscriptionId ? `?subscriptionId=${encodeURIComponent(subscriptionId)}` : ''}`,
    );
  addFault = (fault: NotificationFaultInput) => this.call<NotificationFault>('POST', '/notification-faults', fault);
  faults = () => this.call<{ value: NotificationFault[] }>('GET', '/notification-faults');
  clearFaults = () => this.call<void>('DELETE', '/notification-faults');
}
