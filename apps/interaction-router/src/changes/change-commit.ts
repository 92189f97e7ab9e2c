import { FailedPreconditionError, type Logger } from '@mailroute/platform';
import type { InteractionHistoryRecord, InteractionRecord } from '@mailroute/persistence';
import { transition, type InteractionEvent } from '@mailroute/routing-engine';
import { nextOfferVersion, toActorRecord, toSnapshot, withSnapshot } from '../routing/interaction-mapping';
import { changeKey } from '../store/router-keys';
import type { ConversationDocument, RouterStores } from '../store/router-stores';
import type { ChangeIndexes } from './change-indexes';
import type { PublishChange } from './change-events';
import type { MarkerRemoval } from './marker-removal';

export interface ChangeExtras {
  note?: string;
  /** Extra record fields to change with the transition (tags, offer reason, counters…). */
  patch?: Partial<InteractionRecord>;
  actorName?: string;
  /** The conversation's document as the caller just read it (null: none): the commit does not read it again. */
  conversation?: ConversationDocument | null;
}

/**
 * The next version of `record` after `event` and its history entry; throws FailedPreconditionError
 * when the state machine refuses the event.
 */
export function toChange(
  record: InteractionRecord,
  event: InteractionEvent,
  extras: ChangeExtras = {},
): { next: InteractionRecord; entry: InteractionHistoryRecord } {
  const result = transition(toSnapshot(record), event);
  if (!result.ok) throw new FailedPreconditionError(result.message, { reason: result.reason });
  const changed: InteractionRecord = {
    ...withSnapshot(record, result.next),
    ...extras.patch,
    version: result.next.version,
    updatedAt: event.at,
  };
  // One offer per interaction: a change that leaves the offer standing keeps its id.
  const next: InteractionRecord = { ...changed, offerVersion: nextOfferVersion(record, changed) };
  const entry: InteractionHistoryRecord = {
    tenantId: record.tenantId,
    interactionId: record.interactionId,
    version: next.version,
    occurredAt: event.at,
    previousState: result.change.previousState,
    state: result.change.state,
    reason: result.change.reason,
    actor: toActorRecord(result.change.actor, extras.actorName),
    queueId: next.queueId ?? '',
    agentId: result.change.agentId ?? next.agentId ?? '',
    note: extras.note ?? '',
    interaction: next,
  };
  return { next, entry };
}

/**
 * Commits interaction changes: each is the interaction's next history version (a unique insert, so
 * of two writers one wins) carrying its own outbox entry (`unpublishedAt`): one write records the
 * change and the promise to publish it. The entry is cleared once the derived indexes are updated
 * and the InteractionStateChanged is published — a crash in between is finished by the relay
 * (sweeps/outbox-relay.ts) on any replica. Published changes are cleared in batches
 * (marker-removal.ts): one round trip for the changes of a planning pass, not one each.
 */
export function createChangeCommits(deps: {
  stores: Pick<RouterStores, 'interactions'>;
  logger: Logger;
  clock: () => number;
  indexes: ChangeIndexes;
  publishChange: PublishChange;
  /** How long a commit waits for its event to reach the bus (RouterCoreOptions.publishWaitMs). */
  publishWaitMs: number;
  /** Marks published changes (`changeKey`s) in batches. */
  published: MarkerRemoval;
  onCommitted?: ((entry: InteractionHistoryRecord) => void) | undefined;
}) {
  const { stores, logger, clock, indexes, publishChange } = deps;
  /** Changes (`changeKey`) this replica is still publishing: the relay leaves them alone. */
  const publishing = new Set<string>();

  /** Commits `entry`; false when another writer committed that version first. */
  async function commitEntry(entry: InteractionHistoryRecord, conversation?: ConversationDocument | null): Promise<boolean> {
    const key = changeKey(entry);
    // Marked before the commit, so the relay never takes a change this replica is about to publish.
    publishing.add(key);
    let committed = false;
    try {
      committed = (await stores.interactions.commit(entry, { unpublishedAt: clock() })) === 'committed';
    } finally {
      if (!committed) publishing.delete(key);
    }
    if (!committed) return false;
    deps.onCommitted?.(entry);
    const unfinished = (error: unknown) =>
      logger.warn(
        { err: error, interactionId: entry.interactionId },
        'router: change committed but not fully published yet; the relay finishes it',
      );
    try {
      await indexes.maintain(entry.interaction, entry.previousState, conversation);
    } catch (error) {
      publishing.delete(key);
      unfinished(error);
      return true;
    }
    // The store is the truth: a bus outage delays the event, never the caller past publishWaitMs.
    // The change stays "being published" until its batch is marked, so the relay leaves it alone.
    const published = publishChange(entry);
    void published
      .then(() => deps.published.remove(key))
      .then(() => undefined, unfinished)
      .finally(() => publishing.delete(key));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      published.then(
        () => undefined,
        () => undefined,
      ),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, deps.publishWaitMs))),
    ]);
    clearTimeout(timer);
    return true;
  }

  /**
   * Applies one state-machine event and commits it as the next version. Undefined when another
   * writer committed first (re-read and decide again); throws FailedPreconditionError when refused.
   */
  async function applyChange(
    record: InteractionRecord,
    event: InteractionEvent,
    extras: ChangeExtras = {},
  ): Promise<InteractionRecord | undefined> {
    const { next, entry } = toChange(record, event, extras);
    return (await commitEntry(entry, extras.conversation)) ? next : undefined;
  }

  return {
    commitEntry,
    applyChange,
    /** Whether this replica is still publishing the change `key` (a `changeKey`). */
    isPublishing: (key: string): boolean => publishing.has(key),
  };
}

export type ChangeCommits = ReturnType<typeof createChangeCommits>;
