import type { Lease, LeaseRepository } from '../ports/lease.repository';
import type { EmbeddedStore } from './embedded-store';

/**
 * Leases in the embedded store: one row per key, taken in a single conditional upsert (SQLite
 * serialises writers, so the check and the write are atomic).
 */
export class EmbeddedLeaseRepository implements LeaseRepository {
  constructor(private readonly store: EmbeddedStore) {
    store.db.exec(`CREATE TABLE IF NOT EXISTS leases (
      key TEXT PRIMARY KEY,
      epoch INTEGER NOT NULL,
      owner TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      released INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID`);
  }

  async tryAcquire(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease | undefined> {
    const expiresAt = now.getTime() + ttlMs;
    const row = this.store.db
      .prepare(
        `INSERT INTO leases (key, epoch, owner, expires_at, released) VALUES (?, 1, ?, ?, 0)
         ON CONFLICT (key) DO UPDATE SET epoch = epoch + 1, owner = excluded.owner, expires_at = excluded.expires_at, released = 0
         WHERE leases.released = 1 OR leases.expires_at <= ?
         RETURNING epoch`,
      )
      .get(key, owner, expiresAt, now.getTime()) as { epoch: number } | undefined;
    return row ? { key, owner, epoch: Number(row.epoch), expiresAt: new Date(expiresAt) } : undefined;
  }

  async release(lease: Lease): Promise<void> {
    this.store.db
      .prepare('UPDATE leases SET released = 1 WHERE key = ? AND epoch = ? AND owner = ?')
      .run(lease.key, lease.epoch, lease.owner);
  }
}
