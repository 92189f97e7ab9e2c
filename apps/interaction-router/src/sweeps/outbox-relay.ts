import type { ChangeCommits } from '../changes/change-commit';
import type { ChangeIndexes } from '../changes/change-indexes';
import type { PublishChange } from '../changes/change-events';
import type { SendOutbox } from '../replies/send-outbox';
import { parseChangeOutboxKey } from '../store/router-keys';
import type { RouterStores } from '../store/router-stores';

/** A change's marker whose history entry is missing is dropped after this long (its writer may still be committing). */
const abandonedAfterMs = 60_000;

/**
 * Finishes committed changes whose indexes or event were left behind (a crash or a bus outage in
 * between) and publishes accepted replies not published yet. One pass at a time per replica.
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

  async function relayPass(olderThanMs: number): Promise<number> {
    const now = deps.clock();
    let relayed = 0;
    for (const { key, document } of await stores.outbox.list({ prefix: '', limit: 500 })) {
      if (now - document.at < olderThanMs || deps.commits.isPublishing(key)) continue;
      if (document.sendKey) {
        if (await deps.sendOutbox.relay(key, document)) relayed += 1;
        continue;
      }
      const { tenantId, interactionId, version } = parseChangeOutboxKey(key);
      const entry = await stores.interactions.historyEntry(tenantId, interactionId, version);
      if (entry) {
        const current = await stores.interactions.refresh(tenantId, interactionId);
        if (current) await deps.indexes.maintain(current);
        await deps.publishChange(entry);
        relayed += 1;
      } else if (now - document.at < abandonedAfterMs) continue;
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
