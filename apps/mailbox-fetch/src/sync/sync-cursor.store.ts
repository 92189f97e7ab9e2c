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
 *
 * The owner keeps the position it last read or wrote in memory, so a turn costs no prefix read of the
 * store (a scan on FerretDB, paid by every woken round). That is safe because the owner is the only
 * writer: a replica whose remembered position is stale has lost the mailbox, and its next advance
 * collides with the new owner's seq (CursorTakenError). `release` forgets it when the mailbox leaves.
 */
export class SyncCursorStore {
  /** The owner's position per mailbox, with the mailbox's creation time (a mailbox deleted and made again starts over). */
  private readonly known = new Map<string, { cursor: SyncCursorRecord; createdAt: number }>();

  constructor(private readonly table: DocumentTable<SyncCursorRecord>) {}

  /** The mailbox's position; `createdAt`: the mailbox record's creation time. */
  async latest(key: string, createdAt: number): Promise<SyncCursorRecord | undefined> {
    const known = this.known.get(key);
    if (known?.createdAt === createdAt) return known.cursor;
    const entries = await this.table.list({ prefix: `${key}/`, limit: 100 });
    let latest: SyncCursorRecord | undefined;
    for (const entry of entries) if (!latest || entry.document.seq > latest.seq) latest = entry.document;
    if (latest) this.known.set(key, { cursor: latest, createdAt });
    else this.known.delete(key);
    return latest;
  }

  /** The mailbox left this replica: if it comes back, its position is read from the store again. */
  release(key: string): void {
    this.known.delete(key);
  }

  /** Stores `next` as seq `previous.seq + 1`; CursorTakenError when another writer got there first. */
  async advance(
    key: string,
    createdAt: number,
    previous: SyncCursorRecord | undefined,
    next: Omit<SyncCursorRecord, 'seq'>,
  ): Promise<SyncCursorRecord> {
    const seq = (previous?.seq ?? 0) + 1;
    const record: SyncCursorRecord = { ...next, seq };
    if (!(await this.table.insert(`${key}/${seqKey(seq)}`, record).catch((error: unknown) => this.forgetAfter(key, error)))) {
      this.known.delete(key);
      throw new CursorTakenError(key, seq);
    }
    this.known.set(key, { cursor: record, createdAt });
    if (seq > 2) void this.table.delete(`${key}/${seqKey(seq - 2)}`).catch(() => undefined);
    return record;
  }

  async forget(key: string): Promise<void> {
    this.known.delete(key);
    await this.table.deletePrefix(`${key}/`);
  }

  /** A failed write may or may not have landed: the position is read from the store next time. */
  private forgetAfter(key: string, error: unknown): never {
    this.known.delete(key);
    throw error;
  }
}
