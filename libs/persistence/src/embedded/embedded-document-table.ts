import { prefixEnd, type DocumentListOptions, type DocumentTable, type KeyedDocument } from '../ports/document-table';
import { fromJsonDocument, toJsonDocument, type EmbeddedStore } from './embedded-store';

const tableNamePattern = /^[a-z][a-z0-9_]{0,62}$/;

/** A DocumentTable in one SQLite table of the embedded store (key → JSON document). */
export class EmbeddedDocumentTable<T extends object> implements DocumentTable<T> {
  constructor(
    private readonly store: EmbeddedStore,
    readonly name: string,
  ) {
    if (!tableNamePattern.test(name)) throw new Error(`table name ${JSON.stringify(name)} must match ${tableNamePattern.source}`);
    store.db.exec(`CREATE TABLE IF NOT EXISTS ${name} (key TEXT PRIMARY KEY, document TEXT NOT NULL) WITHOUT ROWID`);
  }

  async get(key: string): Promise<T | undefined> {
    const row = this.store.db.prepare(`SELECT document FROM ${this.name} WHERE key = ?`).get(key) as
      { document: string } | undefined;
    return row ? fromJsonDocument<T>(row.document) : undefined;
  }

  async put(key: string, document: T): Promise<void> {
    this.store.db
      .prepare(
        `INSERT INTO ${this.name} (key, document) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET document = excluded.document`,
      )
      .run(key, toJsonDocument(document));
  }

  async insert(key: string, document: T): Promise<boolean> {
    const result = this.store.db
      .prepare(`INSERT INTO ${this.name} (key, document) VALUES (?, ?) ON CONFLICT DO NOTHING`)
      .run(key, toJsonDocument(document));
    return result.changes === 1;
  }

  async delete(key: string): Promise<boolean> {
    return this.store.db.prepare(`DELETE FROM ${this.name} WHERE key = ?`).run(key).changes === 1;
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return Number(
      this.store.db.prepare(`DELETE FROM ${this.name} WHERE key IN (SELECT value FROM json_each(?))`).run(JSON.stringify(keys))
        .changes,
    );
  }

  async deletePrefix(prefix: string): Promise<number> {
    return Number(
      this.store.db.prepare(`DELETE FROM ${this.name} WHERE key >= ? AND key < ?`).run(prefix, prefixEnd(prefix)).changes,
    );
  }

  async list(options: DocumentListOptions): Promise<KeyedDocument<T>[]> {
    const after = options.after !== undefined && options.after >= options.prefix ? options.after : undefined;
    const rows = (
      after === undefined
        ? this.store.db
            .prepare(`SELECT key, document FROM ${this.name} WHERE key >= ? AND key < ? ORDER BY key LIMIT ?`)
            .all(options.prefix, prefixEnd(options.prefix), options.limit)
        : this.store.db
            .prepare(`SELECT key, document FROM ${this.name} WHERE key > ? AND key < ? ORDER BY key LIMIT ?`)
            .all(after, prefixEnd(options.prefix), options.limit)
    ) as { key: string; document: string }[];
    return rows.map((row) => ({ key: row.key, document: fromJsonDocument<T>(row.document) }));
  }
}
