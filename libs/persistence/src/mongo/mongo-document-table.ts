import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError, toStoreError } from '../errors';
import { prefixEnd, type DocumentListOptions, type DocumentTable, type KeyedDocument } from '../ports/document-table';
import type { MongoStore } from './mongo-store';

interface Row<T> {
  _id: string;
  doc: T;
}

/**
 * A DocumentTable in one MongoDB collection: `{ _id: key, doc }`. Puts are upserts; a racing
 * upsert of a missing key that loses on `_id` is retried as a replace, so last writer wins on
 * FerretDB too. No indexes beyond `_id` are needed. Undefined fields are left out (not stored as
 * null), so documents read back like the embedded adapter's.
 */
export class MongoDocumentTable<T extends object> implements DocumentTable<T> {
  private readonly collection: Collection<Row<T>>;

  constructor(
    store: MongoStore | { db: Db },
    readonly name: string,
  ) {
    this.collection = store.db.collection<Row<T>>(name);
  }

  async get(key: string): Promise<T | undefined> {
    const row = await this.run(() => this.collection.findOne({ _id: key }));
    return row?.doc;
  }

  async put(key: string, document: T): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.collection.replaceOne({ _id: key }, { doc: document } as Row<T>, { upsert: true, ignoreUndefined: true });
        return;
      } catch (error) {
        if (isDuplicateKeyError(error) && attempt < 3) continue;
        throw this.wrap(error);
      }
    }
  }

  async insert(key: string, document: T): Promise<boolean> {
    try {
      await this.collection.insertOne({ _id: key, doc: document } as Parameters<Collection<Row<T>>['insertOne']>[0], {
        ignoreUndefined: true,
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw this.wrap(error);
    }
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.run(() => this.collection.deleteOne({ _id: key }));
    return result.deletedCount > 0;
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const result = await this.run(() => this.collection.deleteMany({ _id: { $in: [...keys] } }));
    return result.deletedCount;
  }

  async deletePrefix(prefix: string): Promise<number> {
    const result = await this.run(() => this.collection.deleteMany({ _id: { $gte: prefix, $lt: prefixEnd(prefix) } }));
    return result.deletedCount;
  }

  async list(options: DocumentListOptions): Promise<KeyedDocument<T>[]> {
    const lower =
      options.after !== undefined && options.after >= options.prefix ? { $gt: options.after } : { $gte: options.prefix };
    const rows = await this.run(() =>
      this.collection
        .find({ _id: { ...lower, $lt: prefixEnd(options.prefix) } })
        .sort({ _id: 1 })
        .limit(options.limit)
        .toArray(),
    );
    return rows.map((row) => ({ key: row._id, document: row.doc }));
  }

  private async run<R>(operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (error) {
      throw this.wrap(error);
    }
  }

  private wrap(error: unknown): unknown {
    return toStoreError(this.name, error);
  }
}
