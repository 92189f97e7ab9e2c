import { randomBytes } from 'node:crypto';
import { MailboxAccessMode } from '@mailroute/contracts';
import { isGraphMailError, type GraphMailClient } from '@mailroute/graph-mail';
import type { Logger, SecretBox } from '@mailroute/platform';
import type { IntakeRecord, MailboxRecord } from '../store/mailbox-fetch.records';
import { listAll, type MailboxFetchStores } from '../store/mailbox-fetch.stores';
import { folderSelector, targetOf } from '../sync/mailbox-sync';
import type { SyncRuntime } from '../sync/sync-runtime';
import { delegatedAccessIntake, lifecycleIntake, noPublicUrlIntake, refusedIntake } from './intake-mode';
import type { GraphSubscriptionRecord } from './subscription.records';
import type { WakeScheduler } from './wake-scheduler';

/** Push settings; defaults in defaultPushOptions. */
export interface PushOptions {
  /**
   * The public HTTPS base URL Microsoft posts to (the ingress in front of the notification endpoint):
   * notifications go to `<url>/notifications`, lifecycle events to `<url>/lifecycle`. Unset: polling only.
   */
  publicUrl?: string | undefined;
  /**
   * Requested subscription lifetime. Default 4,200 minutes: Graph allows 4,230 minutes (under 3 days) for Outlook
   * messages (https://learn.microsoft.com/graph/change-notifications-overview#subscription-lifetime); a little less
   * leaves room for clock skew. Renewed at half-life.
   */
  subscriptionLifetimeMs: number;
  /** How often owned mailboxes' subscriptions are checked (created, renewed, recreated). Default 10 s. */
  checkIntervalMs: number;
  /** Shortest gap between two notification-driven rounds of one mailbox. Default 1 s. */
  wakeDebounceMs: number;
  /** After a failed creation, wait this long (doubling, up to 1 h) before trying again. Default 30 s. */
  retryBaseMs: number;
}

export function defaultPushOptions(options: Partial<PushOptions> = {}): PushOptions {
  return {
    subscriptionLifetimeMs: 4_200 * 60_000,
    checkIntervalMs: 10_000,
    wakeDebounceMs: 1_000,
    retryBaseMs: 30_000,
    ...options,
  };
}

/** The longest wait before a refused subscription is tried again. */
const maxRetryMs = 3_600_000;
/** Mailboxes whose subscription one check brings up to date at once. */
const ensureConcurrency = 8;
/** The longest a renewal may be put off: renew once less than half the lifetime is left. */
const renewAtFraction = 0.5;

/**
 * Keeps one Graph subscription per owned, enabled mailbox: creates it (with a fresh clientState sealed in
 * the store), renews it at half-life, recreates it when Graph removed it or the folder changed, and
 * deletes subscriptions of mailboxes that were deleted or disabled. Only the mailbox's owner (the replica
 * holding its lease) acts on it; the stored record makes the subscription survive restarts and owner
 * changes. A mailbox whose subscription cannot be made falls back to polling with the reason in its status.
 */
export function createSubscriptionManager(deps: {
  stores: MailboxFetchStores;
  graph: GraphMailClient;
  runtime: Pick<SyncRuntime, 'owned' | 'setIntake'>;
  waker: WakeScheduler;
  secrets: SecretBox | undefined;
  logger: Logger;
  clock: () => number;
  options: PushOptions;
  /** Called with each subscription this replica creates (its id, mailbox key and clientState). */
  onCreated?: (subscriptionId: string, key: string, clientState: string) => void;
}) {
  const { stores, logger, clock, options } = deps;
  const retryAt = new Map<string, { at: number; failures: number }>();
  const busy = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let ticks = 0;
  let stopped = false;

  const urls = () => {
    const base = (options.publicUrl ?? '').replace(/\/+$/, '');
    return { notificationUrl: `${base}/notifications`, lifecycleNotificationUrl: `${base}/lifecycle` };
  };

  async function forget(key: string, record: GraphSubscriptionRecord): Promise<void> {
    await graphOf(record)
      .deleteSubscription(record.subscriptionId)
      .catch((error: unknown) => logger.warn({ err: error, mailbox: key }, 'mailbox-fetch: subscription not deleted in Graph'));
    await stores.subscriptionIndex.delete(record.subscriptionId);
    await stores.subscriptions.delete(key);
  }

  const graphOf = (record: GraphSubscriptionRecord) => deps.graph.mailbox(record.target);

  async function create(key: string, mailbox: MailboxRecord): Promise<void> {
    const secrets = deps.secrets;
    if (!secrets) throw new Error('no clientState key ring');
    const api = deps.graph.mailbox(targetOf(mailbox));
    const selector = folderSelector(mailbox.folder);
    const folderId =
      'wellKnownName' in selector
        ? selector.wellKnownName.toLowerCase()
        : 'folderId' in selector
          ? selector.folderId
          : (await api.getFolder(selector)).id;
    const clientState = randomBytes(48).toString('base64url');
    const now = clock();
    const subscription = await api.createSubscription({
      folderId,
      changeType: 'created',
      ...urls(),
      expiration: new Date(now + options.subscriptionLifetimeMs),
      clientState,
    });
    const record: GraphSubscriptionRecord = {
      tenantId: mailbox.tenantId,
      mailboxId: mailbox.mailboxId,
      target: targetOf(mailbox),
      subscriptionId: subscription.id,
      clientState: secrets.seal(clientState, subscription.id),
      folderId,
      folderGeneration: mailbox.folderGeneration,
      expiresAt: Date.parse(subscription.expirationDateTime),
      createdAt: now,
    };
    await stores.subscriptionIndex.put(subscription.id, { mailboxKey: key });
    await stores.subscriptions.put(key, record);
    deps.onCreated?.(subscription.id, key, clientState);
    logger.info({ mailbox: key, subscriptionId: subscription.id }, 'mailbox-fetch: Graph subscription created');
  }

  /**
   * A delegated mailbox Graph refused a subscription for (403) while the token carries `.Shared` scopes: a
   * mailbox that is not the signed-in user's own, which Graph never notifies about (see delegatedAccessIntake).
   */
  async function delegatedAccessOf(mailbox: MailboxRecord, error: unknown): Promise<IntakeRecord | undefined> {
    if (mailbox.accessMode !== MailboxAccessMode.MAILBOX_ACCESS_MODE_DELEGATED || !isGraphMailError(error, 'access-denied'))
      return undefined;
    const claims = await deps.graph
      .mailbox(targetOf(mailbox))
      .tokenClaims()
      .catch(() => undefined);
    if (!claims?.permissions.some((scope) => /^Mail\.(Read|ReadWrite)\.Shared$/i.test(scope))) return undefined;
    return delegatedAccessIntake(mailbox.address, claims.user);
  }

  /** Brings one owned mailbox's subscription to where it should be, and its intake mode with it. */
  async function ensure(key: string, force = false): Promise<void> {
    if (busy.has(key)) return;
    busy.add(key);
    try {
      const mailbox = await stores.mailboxes.get(key);
      if (!mailbox?.enabled) return;
      if (!options.publicUrl || !deps.secrets) {
        await deps.runtime.setIntake(key, noPublicUrlIntake);
        return;
      }
      const now = clock();
      const retry = retryAt.get(key);
      if (!force && retry && retry.at > now) return;
      let record = await stores.subscriptions.get(key);
      try {
        if (record && (record.folderGeneration !== mailbox.folderGeneration || record.expiresAt <= now)) {
          await forget(key, record);
          record = undefined;
        }
        if (record && record.expiresAt - now < options.subscriptionLifetimeMs * renewAtFraction) {
          try {
            const renewed = await graphOf(record).renewSubscription(
              record.subscriptionId,
              new Date(now + options.subscriptionLifetimeMs),
            );
            record = { ...record, expiresAt: Date.parse(renewed.expirationDateTime), renewedAt: now };
            await stores.subscriptions.put(key, record);
          } catch (error) {
            if (!(isGraphMailError(error) && error.status === 404)) throw error;
            // Graph removed it: recreate, and read what arrived meanwhile.
            await forget(key, record);
            record = undefined;
            deps.waker.wake(key);
          }
        }
        if (!record) {
          await create(key, mailbox);
          record = await stores.subscriptions.get(key);
        }
        retryAt.delete(key);
        await deps.runtime.setIntake(key, { mode: 'push', reason: '', subscriptionExpiresAt: record?.expiresAt });
      } catch (error) {
        const failures = (retry?.failures ?? 0) + 1;
        const delegated = await delegatedAccessOf(mailbox, error);
        // Delegated access to another's mailbox does not change by itself: looked at again hourly (a new sign-in).
        const delay = delegated ? maxRetryMs : Math.min(maxRetryMs, options.retryBaseMs * 2 ** (failures - 1));
        retryAt.set(key, { at: now + delay, failures });
        await deps.runtime.setIntake(key, delegated ?? refusedIntake(error, mailbox.address));
        if (delegated) logger.info({ mailbox: key }, 'mailbox-fetch: delegated access to a mailbox not the user’s own, polling');
        else logger.warn({ err: error, mailbox: key, failures }, 'mailbox-fetch: Graph subscription failed, polling');
      }
    } finally {
      busy.delete(key);
    }
  }

  /** Deletes subscriptions whose mailbox is gone or disabled (idempotent across replicas). */
  async function sweep(): Promise<void> {
    for (const { key, document } of await listAll(stores.subscriptions, '')) {
      const mailbox = await stores.mailboxes.get(key);
      if (!mailbox?.enabled) await forget(key, document);
    }
  }

  async function tick(): Promise<void> {
    ticks += 1;
    // A few at once: each creation waits for Graph's validation request to the endpoint, so one at a time
    // a replica taking over hundreds of mailboxes would leave them polling for minutes.
    const keys = deps.runtime.owned();
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < keys.length && !stopped; index = next++) await ensure(keys[index] ?? '');
    };
    await Promise.all(Array.from({ length: Math.min(ensureConcurrency, keys.length) }, worker));
    if (ticks % 6 === 1 && !stopped) await sweep();
  }

  return {
    start(): void {
      const run = () => {
        ticking ??= tick()
          .catch((error: unknown) => logger.warn({ err: error }, 'mailbox-fetch: subscription check failed'))
          .finally(() => (ticking = undefined));
      };
      run();
      timer = setInterval(run, options.checkIntervalMs);
    },
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await ticking;
    },
    /** Checks one mailbox now (after a lifecycle event, or when it was just acquired). */
    ensure,
    /** `subscriptionRemoved`: forget the stored subscription, create a new one, and run a delta round. */
    async recreate(key: string): Promise<void> {
      const record = await stores.subscriptions.get(key);
      if (record) {
        await stores.subscriptionIndex.delete(record.subscriptionId);
        await stores.subscriptions.delete(key);
      }
      await deps.runtime.setIntake(key, lifecycleIntake('subscriptionRemoved'));
      deps.waker.wake(key);
      if (deps.runtime.owned().includes(key)) await ensure(key, true);
    },
    /** `reauthorizationRequired`: reauthorize (or renew when that fails), then run a delta round. */
    async reauthorize(key: string): Promise<void> {
      const record = await stores.subscriptions.get(key);
      if (!record) return;
      try {
        await graphOf(record).reauthorizeSubscription(record.subscriptionId);
      } catch (error) {
        logger.warn({ err: error, mailbox: key }, 'mailbox-fetch: reauthorize failed, renewing instead');
        await deps.runtime.setIntake(key, lifecycleIntake('reauthorizationRequired'));
        await stores.subscriptions.put(key, { ...record, expiresAt: clock() });
        await ensure(key, true);
      }
      deps.waker.wake(key);
    },
  };
}

export type SubscriptionManager = ReturnType<typeof createSubscriptionManager>;
