import { FailedPreconditionError, NotFoundError } from '@mailroute/platform';
import type { InteractionRecord } from '@mailroute/persistence';
import type { RouterStores } from '../store/router-stores';

/** How often a decision is re-read and re-applied before the caller is told to try again. */
export const maxRereads = 8;

/** A decision over the current record: a result, undefined (refused), or 'retry' (another writer committed first). */
export type Decide<T> = (record: InteractionRecord) => Promise<T | undefined | 'retry'>;

/**
 * Optimistic concurrency for one interaction: reads the record, runs `decide` (which commits a change
 * as the next version), and when another writer committed first ('retry') reads it again and decides
 * again, up to `maxRereads` times — then FAILED_PRECONDITION, retryable. `known` spares the first read
 * (a record just read or written: a lookup is a collection scan on FerretDB v1).
 */
export function createRereadOnConflict(stores: Pick<RouterStores, 'interactions'>) {
  return async function rereadOnConflict<T>(
    tenantId: string,
    interactionId: string,
    decide: Decide<T>,
    known?: InteractionRecord,
  ): Promise<T | undefined> {
    for (let attempt = 0; attempt < maxRereads; attempt += 1) {
      const record = attempt === 0 && known ? known : await stores.interactions.get(tenantId, interactionId);
      if (!record) throw new NotFoundError('interaction', interactionId);
      const outcome = await decide(record);
      if (outcome !== 'retry') return outcome;
    }
    throw new FailedPreconditionError(`interaction ${interactionId} keeps changing; try again`, { retryable: true });
  };
}

export type RereadOnConflict = ReturnType<typeof createRereadOnConflict>;
