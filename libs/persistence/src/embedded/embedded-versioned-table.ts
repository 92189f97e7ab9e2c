import { ConflictError } from '@mailroute/platform';
import type { LatestVersion } from '../mongo/versioned-collection';
import { fromJsonDocument, toJsonDocument, type EmbeddedStore } from './embedded-store';

const tableNamePattern = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * VersionedCollection's contract in the embedded store: records with optimistic concurrency, the
 * version as the etag, deletes as tombstones so a writer that read the record before the delete
 * cannot bring it back. SQLite serialises writers, so a compare-and-set is one conditional statement.
 */
export class EmbeddedVersionedTable<T extends object> {
  constructor(
    private readonly store: EmbeddedStore,
    readonly name: string,
  ) {
    if (!tableNamePattern.test(name)) throw new Error(`table name ${JSON.stringify(name)} must match ${tableNamePattern.source}`);
    store.db.exec(
      `CREATE TABLE IF NOT EXISTS ${name} (key TEXT PRIMARY KEY, version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, data TEXT) WITHOUT ROWID`,
    );
  }

  async latest(key: string): Promise<LatestVersion<T> | undefined> {
    const row = this.head(key);
    return row && !row.deleted && row.data !== null
      ? { key, version: Number(row.version), data: fromJsonDocument<T>(row.data) }
      : undefined;
  }

  async write(
    key: string,
    expectedVersion: number,
    data: T,
  ): Promise<{ outcome: 'written'; version: number } | { outcome: 'conflict' }> {
    const document = toJsonDocument(data);
    if (expectedVersion === 0) {
      // Create, or revive a tombstone: the version keeps counting up.
      const result = this.store.db
        .prepare(
          `INSERT INTO ${this.name} (key, version, deleted, data) VALUES (?, 1, 0, ?)
           ON CONFLICT (key) DO UPDATE SET version = version + 1, deleted = 0, data = excluded.data WHERE deleted = 1`,
        )
        .run(key, document);
      if (result.changes !== 1) return { outcome: 'conflict' };
      return { outcome: 'written', version: Number(this.head(key)?.version ?? 1) };
    }
    const result = this.store.db
      .prepare(`UPDATE ${this.name} SET version = version + 1, data = ? WHERE key = ? AND version = ? AND deleted = 0`)
      .run(document, key, expectedVersion);
    return result.changes === 1 ? { outcome: 'written', version: expectedVersion + 1 } : { outcome: 'conflict' };
  }

  async remove(key: string, expectedVersion?: number): Promise<boolean> {
    const head = this.head(key);
    if (!head || head.deleted) return false;
    if (expectedVersion !== undefined && Number(head.version) !== expectedVersion) {
      throw new ConflictError(`${this.name} ${JSON.stringify(key)} changed since version ${expectedVersion}; read it again`);
    }
    const result = this.store.db
      .prepare(
        `UPDATE ${this.name} SET version = version + 1, deleted = 1, data = NULL WHERE key = ? AND version = ? AND deleted = 0`,
      )
      .run(key, head.version);
    if (result.changes !== 1)
      throw new ConflictError(`${this.name} ${JSON.stringify(key)} changed while deleting it; delete it again`);
    return true;
  }

  async page(after: string | undefined, limit: number): Promise<LatestVersion<T>[]> {
    const rows = this.store.db
      .prepare(`SELECT key, version, data FROM ${this.name} WHERE key > ? AND deleted = 0 ORDER BY key LIMIT ?`)
      .all(after ?? '', limit) as { key: string; version: number; data: string }[];
    return rows.map((row) => ({ key: row.key, version: Number(row.version), data: fromJsonDocument<T>(row.data) }));
  }

  private head(key: string): { version: number; deleted: number; data: string | null } | undefined {
    return this.store.db.prepare(`SELECT version, deleted, data FROM ${this.name} WHERE key = ?`).get(key) as
      { version: number; deleted: number; data: string | null } | undefined;
  }
}
