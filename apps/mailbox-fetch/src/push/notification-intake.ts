import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger, SecretBox } from '@mailroute/platform';
import type { MailboxFetchStores } from '../store/mailbox-fetch.stores';
import type { NotificationItem } from './notification-endpoint';
import type { SubscriptionManager } from './subscription-manager';
import type { WakeScheduler } from './wake-scheduler';

/**
 * How long a subscription's mailbox and secret are remembered (a subscription id never changes mailbox or
 * secret; only a deleted one must stop counting, and a stale entry of one can do no more than wake a delta
 * round). Seeded when this replica creates the subscription, so a notification costs no store read.
 */
const cacheTtlMs = 10 * 60_000;
/** Subscriptions remembered at most (the oldest go first). */
const cacheMaxEntries = 20_000;

function sameSecret(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison's time says nothing about the secret.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Counts of what the endpoint received, for metrics and tests. */
export interface IntakeCounters {
  accepted: number;
  /** clientState did not match the subscription's secret. */
  forged: number;
  /** No subscription of ours has this id. */
  unknown: number;
}

/**
 * What a notification may do: after its clientState matched the subscription's secret, wake that
 * mailbox's delta sync (change notifications, `missed`), recreate the subscription
 * (`subscriptionRemoved`) or reauthorize it (`reauthorizationRequired`). Its content — ids, resource —
 * is never used: the delta round decides what was received.
 */
export function createNotificationIntake(deps: {
  stores: Pick<MailboxFetchStores, 'subscriptions' | 'subscriptionIndex'>;
  secrets: SecretBox;
  waker: WakeScheduler;
  manager: Pick<SubscriptionManager, 'recreate' | 'reauthorize'>;
  logger: Logger;
  clock: () => number;
}) {
  const { logger } = deps;
  const cache = new Map<string, { key: string; secret: string; at: number }>();
  const counters: IntakeCounters = { accepted: 0, forged: 0, unknown: 0 };

  function remember(subscriptionId: string, key: string, secret: string): { key: string; secret: string } {
    const entry = { key, secret, at: deps.clock() };
    cache.delete(subscriptionId);
    cache.set(subscriptionId, entry);
    if (cache.size > cacheMaxEntries) cache.delete(cache.keys().next().value ?? '');
    return entry;
  }

  async function lookup(subscriptionId: string): Promise<{ key: string; secret: string } | undefined> {
    const cached = cache.get(subscriptionId);
    if (cached && deps.clock() - cached.at < cacheTtlMs) return cached;
    const index = await deps.stores.subscriptionIndex.get(subscriptionId);
    const record = index ? await deps.stores.subscriptions.get(index.mailboxKey) : undefined;
    if (!index || !record || record.subscriptionId !== subscriptionId) return undefined;
    return remember(subscriptionId, index.mailboxKey, deps.secrets.openString(record.clientState, subscriptionId));
  }

  async function handle(kind: 'change' | 'lifecycle', item: NotificationItem): Promise<void> {
    const subscriptionId = item['subscriptionId'];
    const clientState = item['clientState'];
    if (typeof subscriptionId !== 'string' || subscriptionId.length > 200) return void (counters.unknown += 1);
    const known = await lookup(subscriptionId);
    if (!known) return void (counters.unknown += 1);
    if (typeof clientState !== 'string' || !sameSecret(clientState, known.secret)) {
      counters.forged += 1;
      logger.warn({ mailbox: known.key, subscriptionId }, 'mailbox-fetch: notification with a wrong clientState ignored');
      return;
    }
    counters.accepted += 1;
    if (kind === 'change') return deps.waker.wake(known.key);
    const event = item['lifecycleEvent'];
    logger.info({ mailbox: known.key, subscriptionId, event }, 'mailbox-fetch: subscription lifecycle event');
    if (event === 'subscriptionRemoved') {
      cache.delete(subscriptionId);
      await deps.manager.recreate(known.key);
    } else if (event === 'reauthorizationRequired') await deps.manager.reauthorize(known.key);
    else deps.waker.wake(known.key);
  }

  return {
    counters,
    /** A subscription this replica just created: its notifications are checked without a store read. */
    remember(subscriptionId: string, key: string, secret: string): void {
      remember(subscriptionId, key, secret);
    },
    /** Handles a batch (after the endpoint's 202); failures are logged, the next poll covers them. */
    onItems(kind: 'change' | 'lifecycle', items: NotificationItem[]): void {
      for (const item of items)
        void handle(kind, item).catch((error: unknown) => logger.warn({ err: error }, 'mailbox-fetch: notification not handled'));
    },
  };
}
