import type { DocumentTable } from '@mailroute/persistence';
import { ConflictError } from '@mailroute/platform';
import { seqKey, type SyncCursorRecord } from '../store/mailbox-fetch.records';

/** The replica lost the mailbox: another one advanced its cursor. Stop the round. */
export class CursorTakenError extends ConflictError {
  constructor(key: string, seq: number) {
    super(`sync cursor ${key} #${seq} was written by another replica`, { retryable: false });
  }
}

/**
 * A mailbox's delta position as an append-only sequence `<tenant>/<mailbox>/<seq>`: advancing
 * inserts seq n+1 under the unique key, so a replica that lost the mailbox can never overwrite the
 * new owner's position (FerretDB v1 has no atomic compare-and-set; unique inserts are atomic).
 */
export class SyncCursorStore {
  constructor(private readonly table: DocumentTable<SyncCursorRecord>) {}

  async latest(key: string): Promise<SyncCursorRecord | undefined> {
    const entries = await this.table.list({ prefix: `${key}/`, limit: 100 });
    let latest: SyncCursorRecord | undefined;
    for (const entry of entries) if (!latest || entry.document.seq > latest.seq) latest = entry.document;
    return latest;
  }

  /** Stores `next` as seq `previous.seq + 1`; CursorTakenError when another writer got there first. */
  async advance(
    key: string,
    previous: SyncCursorRecord | undefined,
    next: Omit<SyncCursorRecord, 'seq'>,
  ): Promise<SyncCursorRecord> {
    const seq = (previous?.seq ?? 0) + 1;
    const record: SyncCursorRecord = { ...next, seq };
    if (!(await this.table.insert(`${key}/${seqKey(seq)}`, record))) throw new CursorTakenError(key, seq);
    if (seq > 2) void this.table.delete(`${key}/${seqKey(seq - 2)}`).catch(() => undefined);
    return record;
  }

  async forget(key: string): Promise<void> {
    await this.table.deletePrefix(`${key}/`);
  }
}
