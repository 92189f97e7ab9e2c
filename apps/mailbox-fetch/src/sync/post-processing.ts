import { PostProcessingAction } from '@mailroute/contracts';
import { isGraphMailError, type MailboxGraph } from '@mailroute/graph-mail';
import { backoffDelayMs, isRetryable, type BackoffOptions, type Logger } from '@mailroute/platform';
import {
  mailboxKey,
  type InboundMessageRecord,
  type MailboxRecord,
  type PostProcessingWorkRecord,
} from '../store/mailbox-fetch.records';
import { listAll, type MailboxFetchStores } from '../store/mailbox-fetch.stores';
import { LostMailboxError } from './lost-mailbox.error';

/** Due work items one turn retries at most (a long outage's backlog drains over several turns). */
const maxRetriesPerTurn = 50;

export interface PostProcessingDeps {
  stores: MailboxFetchStores;
  logger: Logger;
  clock: () => number;
  /** The move target's folder id (resolved, checked against the never-delete guard). */
  moveTargetId: (api: MailboxGraph, mailbox: MailboxRecord) => Promise<string>;
  /** Backoff between attempts of one item (the project's backoff). */
  backoff: BackoffOptions;
}

/** One e-mail whose post-processing is due now, with what the delta page said about it. */
export interface PostProcessingItem {
  recordKey: string;
  record: InboundMessageRecord;
  /** The message was already read (from the delta item): no PATCH needed. */
  isRead: boolean;
}

/**
 * Post-processing (mark read, move, or leave) as durable work: an item is stored with the inbound
 * record — before the e-mail's event is published — and removed only once the mailbox's action was
 * applied in Graph (or the message is gone). A failed attempt is stored with its next attempt time
 * (the project's backoff) and retried by the mailbox's later turns, on this replica or, after a
 * restart or takeover, on the next owner — an unchanged message never shows up in delta again, so
 * delta cannot be what retries it.
 *
 * The mailbox's owner is the only writer of its items, so the pending items are kept in memory
 * per mailbox, read from the store once when the mailbox is first turned after being acquired.
 */
export function createPostProcessing(deps: PostProcessingDeps) {
  const { stores, clock, logger } = deps;
  const { backoff } = deps;
  /** Pending items of each owned mailbox (loaded), by record key. */
  const pending = new Map<string, Map<string, PostProcessingWorkRecord>>();

  async function pendingOf(key: string): Promise<Map<string, PostProcessingWorkRecord>> {
    let items = pending.get(key);
    if (!items) {
      items = new Map((await listAll(stores.postProcessing, `${key}/`)).map((entry) => [entry.key, entry.document]));
      pending.set(key, items);
    }
    return items;
  }

  /** Records the work of a new e-mail (idempotent: a re-read page finds it stored). */
  async function enqueue(recordKey: string, record: InboundMessageRecord): Promise<PostProcessingWorkRecord> {
    const work: PostProcessingWorkRecord = { ...record, queuedAt: clock(), attempts: 0, nextAttemptAt: 0 };
    const stored = (await stores.postProcessing.insert(recordKey, work))
      ? work
      : ((await stores.postProcessing.get(recordKey)) ?? work);
    pending.get(mailboxKey(record.tenantId, record.mailboxId))?.set(recordKey, stored);
    return stored;
  }

  async function apply(api: MailboxGraph, mailbox: MailboxRecord, graphMessageId: string, isRead: boolean): Promise<void> {
    const action = mailbox.postProcessingAction;
    if (action === PostProcessingAction.POST_PROCESSING_ACTION_LEAVE) return;
    const markRead = action !== PostProcessingAction.POST_PROCESSING_ACTION_MOVE;
    const move =
      action === PostProcessingAction.POST_PROCESSING_ACTION_MOVE ||
      action === PostProcessingAction.POST_PROCESSING_ACTION_MARK_READ_AND_MOVE;
    if (markRead && !isRead) await api.markRead(graphMessageId);
    if (move) await api.move(graphMessageId, await deps.moveTargetId(api, mailbox));
  }

  async function complete(
    items: Map<string, PostProcessingWorkRecord>,
    recordKey: string,
    work: PostProcessingWorkRecord,
  ): Promise<void> {
    const at = clock();
    // The `#post` marker tells a later delta appearance of the message that nothing is left to do.
    const { queuedAt: _queuedAt, attempts: _attempts, nextAttemptAt: _nextAttemptAt, lastError: _lastError, ...record } = work;
    await stores.inbound.insert(`${recordKey}#post`, { ...record, postProcessedAt: at });
    await stores.postProcessing.delete(recordKey);
    items.delete(recordKey);
  }

  async function attempt(
    api: MailboxGraph,
    mailbox: MailboxRecord,
    items: Map<string, PostProcessingWorkRecord>,
    recordKey: string,
    work: PostProcessingWorkRecord,
    isRead: boolean,
  ): Promise<void> {
    try {
      await apply(api, mailbox, work.graphMessageId, isRead);
      await complete(items, recordKey, work);
    } catch (error) {
      // The mailbox left this replica mid-attempt: its next owner has the work (nothing written here).
      if (error instanceof LostMailboxError) return;
      if (isGraphMailError(error, 'not-found')) {
        // Deleted or moved away by a person: nothing left to apply.
        await complete(items, recordKey, work).catch((cause: unknown) =>
          logger.warn(
            { err: cause, mailbox: mailboxKey(mailbox.tenantId, mailbox.mailboxId) },
            'mailbox-fetch: post-processing not recorded',
          ),
        );
        return;
      }
      const attempts = work.attempts + 1;
      const failed: PostProcessingWorkRecord = {
        ...work,
        attempts,
        nextAttemptAt: clock() + backoffDelayMs(attempts, backoff),
        lastError: error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500),
      };
      items.set(recordKey, failed);
      await stores.postProcessing.put(recordKey, failed).catch(() => undefined);
      logger.warn(
        {
          err: error,
          mailboxId: mailbox.mailboxId,
          tenantId: mailbox.tenantId,
          attempts,
          retryable: isRetryable(error),
          nextAttemptAt: new Date(failed.nextAttemptAt).toISOString(),
        },
        'mailbox-fetch: post-processing failed, will retry',
      );
    }
  }

  return {
    enqueue,

    /** Applies the work of e-mails just published (the fast path; failures are kept for retry). */
    async runNow(api: MailboxGraph, mailbox: MailboxRecord, now: readonly PostProcessingItem[]): Promise<void> {
      if (now.length === 0) return;
      const items = await pendingOf(mailboxKey(mailbox.tenantId, mailbox.mailboxId));
      await Promise.all(
        now.map(async (item) => {
          // (An e-mail recorded before post-processing was durable gets its work item now.)
          const work = items.get(item.recordKey) ?? (await enqueue(item.recordKey, item.record));
          items.set(item.recordKey, work);
          await attempt(api, mailbox, items, item.recordKey, work, item.isRead);
        }),
      );
    },

    /**
     * Retries the mailbox's due items. An item whose e-mail is not yet published waits (a moved
     * message would leave the folder before its event went out).
     */
    async runDue(api: MailboxGraph, mailbox: MailboxRecord): Promise<void> {
      const items = await pendingOf(mailboxKey(mailbox.tenantId, mailbox.mailboxId));
      const now = clock();
      const due = [...items].filter(([, work]) => work.nextAttemptAt <= now).slice(0, maxRetriesPerTurn);
      await Promise.all(
        due.map(async ([recordKey, work]) => {
          if (!(await stores.inbound.get(`${recordKey}#published`))) {
            items.set(recordKey, { ...work, nextAttemptAt: now + backoffDelayMs(work.attempts + 1, backoff) });
            return;
          }
          await attempt(api, mailbox, items, recordKey, work, false);
        }),
      );
    },

    /** When the mailbox's next pending item is due (undefined: none, or not loaded). */
    nextDueAt(key: string): number | undefined {
      const items = pending.get(key);
      if (!items || items.size === 0) return undefined;
      return Math.min(...[...items.values()].map((work) => work.nextAttemptAt));
    },

    /** Items of an owned mailbox still to do (for status and tests). */
    pendingCount(key: string): number {
      return pending.get(key)?.size ?? 0;
    },

    /** The mailbox left this replica: its items are read again from the store if it comes back. */
    forget(key: string): void {
      pending.delete(key);
    },
  };
}
