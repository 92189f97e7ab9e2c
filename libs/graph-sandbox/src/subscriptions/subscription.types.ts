/** The sandbox's model of Graph subscriptions and what it records about deliveries. */
import type { NotificationFault } from './notification-faults';

export type ChangeType = 'created' | 'updated' | 'deleted';
export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

/** A Graph subscription on a mailbox's messages (one folder, or every folder for `/messages`). */
export interface SandboxSubscription {
  id: string;
  tenantId: string;
  applicationId: string;
  creatorId: string;
  mailboxId: string;
  /** The watched folder; undefined watches every folder of the mailbox. */
  folderId: string | undefined;
  resource: string;
  changeType: string;
  changeTypes: ReadonlySet<ChangeType>;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expirationMs: number;
  /** Created with `Prefer: IdType="ImmutableId"`: notifications carry immutable ids. */
  immutableIds: boolean;
  /** After reauthorizationRequired, delivery pauses (changes are held) until the app reauthorizes or renews. */
  paused: boolean;
  held: Array<Record<string, unknown>>;
  /** Messages the subscription has seen in the watched folder(s), to tell `created` from `updated`. */
  seen: Set<string>;
  lastSeq: number;
}

/** One POST the sandbox made (or withheld) to a subscriber: what the admin API's delivery log shows. */
export interface DeliveryRecord {
  subscriptionId: string;
  kind: 'change' | 'lifecycle';
  /** When the POST went out (a withheld one: when it would have). */
  sentAtMs: number;
  /** When the subscriber's answer (or the failure) came back. */
  atMs: number;
  items: number;
  /** The subscriber's HTTP status, or `timeout` / `unreachable` / `dropped` (a fault withheld it). */
  outcome: number | 'timeout' | 'unreachable' | 'dropped';
  attempt: number;
  faults: NotificationFault['kind'][];
  lifecycleEvent?: LifecycleEvent;
}

/** Delivery knobs (sandbox options). */
export interface SubscriptionSettings {
  /**
   * Outlook messages: 4,230 minutes (under 3 days), Microsoft's table "Maximum length of subscription per resource
   * type" (https://learn.microsoft.com/graph/change-notifications-overview#subscription-lifetime). Some third-party
   * notes quote 10,080 minutes from a later revision; the stricter figure is the one Microsoft's text gives.
   */
  maxLifetimeMinutes: number;
  /** Graph gives the subscriber 10 s to echo the validation token. */
  validationTimeoutMs: number;
  /** Graph wants 2xx within 3 s; slower answers count as failures and are retried. */
  notificationTimeoutMs: number;
  /** Attempts per notification before it is dropped (Graph retries for up to 4 hours). */
  notificationMaxAttempts: number;
  /** First retry delay; doubles each attempt. */
  notificationRetryBaseMs: number;
  /** How often the sandbox looks for changes in watched folders. */
  changeScanIntervalMs: number;
}

export const defaultSubscriptionSettings: SubscriptionSettings = {
  maxLifetimeMinutes: 4_230,
  validationTimeoutMs: 10_000,
  notificationTimeoutMs: 3_000,
  notificationMaxAttempts: 5,
  notificationRetryBaseMs: 1_000,
  changeScanIntervalMs: 25,
};

/** Graph's subscription JSON. */
export function toSubscriptionView(subscription: SandboxSubscription) {
  return {
    id: subscription.id,
    resource: subscription.resource,
    applicationId: subscription.applicationId,
    changeType: subscription.changeType,
    clientState: subscription.clientState,
    notificationUrl: subscription.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: subscription.lifecycleNotificationUrl,
    expirationDateTime: new Date(subscription.expirationMs).toISOString(),
    creatorId: subscription.creatorId,
    includeResourceData: null,
    latestSupportedTlsVersion: 'v1_2',
    encryptionCertificate: null,
    encryptionCertificateId: null,
    notificationUrlAppId: null,
  };
}
