import { randomUUID } from 'node:crypto';
import {
  eventKey,
  events,
  eventTopics,
  fromEventMessage,
  toEventMessage,
  type EventBus,
  type Subscription,
} from '@mailroute/messaging';
import type { Logger } from '@mailroute/platform';
import { mailboxKey } from '../store/mailbox-fetch.records';
import type { MailboxFetchStores } from '../store/mailbox-fetch.stores';
import type { SyncRuntime } from './sync-runtime';

/**
 * "Run this mailbox's delta round now", wherever the request lands (a change notification, SyncNow):
 * the replica that owns the mailbox runs it at once; any other replica stores the request (the
 * owner's next scan reads it, ≤ the scan interval) and publishes a MailboxWakeUp on Kafka, which
 * every replica reads through its own consumer group, so the owner acts within a Kafka round trip.
 * The stored request and the event carry the same time: the owner runs one round for both.
 */
export function createMailboxWakeUps(deps: {
  runtime: Pick<SyncRuntime, 'wake'>;
  stores: Pick<MailboxFetchStores, 'syncRequests'>;
  bus: EventBus;
  replicaId: string;
  logger: Logger;
  clock: () => number;
}) {
  const { logger } = deps;
  let subscription: Subscription | undefined;
  let received = 0;

  return {
    /**
     * Requests a round of the mailbox `key` (`tenant/mailbox`); resolves once the owner has it in hand: this replica
     * woke it, or the request is stored (the Kafka event is best effort on top). `notifiedAt`: when the change
     * notification behind it arrived (for the round's timing; default now).
     */
    async request(key: string, fullResync: boolean, notifiedAt?: number): Promise<void> {
      // Tenant ids are resource ids (no '/'): the first '/' of a mailbox key ends the tenant.
      const split = key.indexOf('/');
      const [tenantId, mailboxId] = [key.slice(0, split), key.slice(split + 1)];
      const requestedAt = deps.clock();
      if (deps.runtime.wake(key, fullResync, requestedAt, notifiedAt)) return;
      await deps.stores.syncRequests.put(key, { requestedAt, fullResync });
      const event = {
        eventId: randomUUID(),
        tenantId,
        occurredAt: new Date(requestedAt),
        mailboxId,
        fullResync,
        requestedBy: deps.replicaId,
      };
      await deps.bus
        .publish(events.mailboxWakeUp.topic, toEventMessage('mailboxWakeUp', eventKey(tenantId, mailboxId), event))
        .catch((error: unknown) =>
          logger.warn({ err: error, mailbox: key }, 'mailbox-fetch: wake-up not published; the owner reads the stored request'),
        );
    },
    /** Reads the wake-up topic from its end (a group of this replica's own, deleted when it stops). */
    async start(): Promise<void> {
      await deps.bus.ensureTopics(eventTopics('mailboxWakeUp'));
      subscription = await deps.bus.subscribe({
        groupId: `mailbox-fetch-wake-up-${deps.replicaId}`,
        ephemeralGroup: true,
        topics: [events.mailboxWakeUp.topic],
        fromBeginning: false,
        handler: async (message) => {
          const wakeUp = fromEventMessage('mailboxWakeUp', message);
          received += 1;
          const requestedAt = wakeUp.occurredAt?.getTime() ?? deps.clock();
          // Not ours: another replica owns it (or nobody yet; the stored request waits for the next owner).
          deps.runtime.wake(mailboxKey(wakeUp.tenantId, wakeUp.mailboxId), wakeUp.fullResync, requestedAt);
        },
      });
    },
    /** True once the consumer owns partitions of the topic (wake-ups sent from now on reach this replica). */
    listening: () => (subscription?.assignments().length ?? 0) > 0,
    /** Wake-up events this replica has read (any mailbox), for tests and logs. */
    received: () => received,
    async stop(): Promise<void> {
      await subscription?.close();
      subscription = undefined;
    },
  };
}
export type MailboxWakeUps = ReturnType<typeof createMailboxWakeUps>;
