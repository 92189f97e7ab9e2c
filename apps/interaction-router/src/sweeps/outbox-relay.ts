import type { ChangeCommits } from '../changes/change-commit';
import type { ChangeIndexes } from '../changes/change-indexes';
import type { PublishChange } from '../changes/change-events';
import type { SendOutbox } from '../replies/send-outbox';
import { changeKey, parseChangeOutboxKey } from '../store/router-keys';
import type { RouterStores } from '../store/router-stores';

/** A change's marker whose history entry is missing is dropped after this long (its writer may still be committing). */
const abandonedAfterMs = 60_000;

/** Unpublished changes taken per pass (the next pass takes the rest). */
const changesPerPass = 500;

/**
 * Finishes committed changes whose indexes or event were left behind (a crash or a bus outage in
 * between: the change's history entry still carries its outbox entry) and publishes accepted replies
 * not published yet. Outbox markers of changes, which versions before the history entries carried
 * their own wrote, are finished too. One pass at a time per replica.
 */
export function createOutboxRelay(deps: {
  stores: Pick<RouterStores, 'outbox' | 'interactions'>;
  clock: () => number;
  commits: Pick<ChangeCommits, 'isPublishing'>;
  indexes: ChangeIndexes;
  publishChange: PublishChange;
  sendOutbox: Pick<SendOutbox, 'relay'>;
}) {
  const { stores } = deps;
  let relaying: Promise<number> | undefined;

  /** Brings the indexes in line with the interaction and publishes the change again. */
  async function finish(tenantId: string, interactionId: string, version: number): Promise<boolean> {
    const entry = await stores.interactions.historyEntry(tenantId, interactionId, version);
    if (!entry) return false;
    const current = await stores.interactions.refresh(tenantId, interactionId);
    if (current) await deps.indexes.maintain(current);
    await deps.publishChange(entry);
    return true;
  }

  async function relayPass(olderThanMs: number): Promise<number> {
    const now = deps.clock();
    let relayed = 0;
    const finished = [];
    try {
      for (const change of await stores.interactions.listUnpublished(now - olderThanMs, changesPerPass)) {
        if (deps.commits.isPublishing(changeKey(change))) continue;
        if (await finish(change.tenantId, change.interactionId, change.version)) relayed += 1;
        finished.push(change);
      }
    } finally {
      // What was published before a failure is not published again by the next pass.
      await stores.interactions.markPublished(finished);
    }
    for (const { key, document } of await stores.outbox.list({ prefix: '', limit: 500 })) {
      if (now - document.at < olderThanMs || deps.commits.isPublishing(key)) continue;
      if (document.sendKey) {
        if (await deps.sendOutbox.relay(key, document)) relayed += 1;
        continue;
      }
      const { tenantId, interactionId, version } = parseChangeOutboxKey(key);
      if (await finish(tenantId, interactionId, version)) relayed += 1;
      else if (now - document.at < abandonedAfterMs) continue;
      await stores.outbox.delete(key);
    }
    return relayed;
  }

  /** Relays what was committed `olderThanMs` or more ago and is still unpublished; returns how many. */
  return function relayUnpublished(olderThanMs = 5_000): Promise<number> {
    relaying ??= relayPass(olderThanMs).finally(() => (relaying = undefined));
    return relaying;
  };
}
