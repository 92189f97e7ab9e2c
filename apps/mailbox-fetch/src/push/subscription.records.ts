import type { MailboxTarget } from '@mailroute/graph-mail';
import type { SealedValue } from '@mailroute/platform';

/**
 * A mailbox's Graph subscription (key: the mailbox key). `clientState` is the subscription's secret,
 * sealed with the push key ring (context: the subscription id), so a copy of the store cannot forge
 * notifications.
 */
export interface GraphSubscriptionRecord {
  tenantId: string;
  mailboxId: string;
  /** Whose token manages it: kept so the subscription can be deleted after its mailbox is. */
  target: MailboxTarget;
  subscriptionId: string;
  clientState: SealedValue;
  /** The folder id the subscription watches (a folder change recreates it). */
  folderId: string;
  folderGeneration: number;
  expiresAt: number;
  createdAt: number;
  renewedAt?: number | undefined;
}

/** subscription id → mailbox key: how a notification finds its mailbox. */
export interface GraphSubscriptionIndexRecord {
  mailboxKey: string;
}
