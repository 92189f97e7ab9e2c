import type { Collection, Db, IndexDescription } from 'mongodb';
import { ConflictError } from '@mailroute/platform';
import { isDuplicateKeyError, toStoreError } from '../errors';
import type { IndexPlan } from './mongo-store';

/** One stored version of a record. */
interface VersionDocument<T> {
  key: string;
  version: number;
  deleted?: true;
  data?: T;
}

export interface LatestVersion<T> {
  key: string;
  version: number;
  data: T;
}

/**
 * Records with optimistic concurrency on the portable MongoDB subset.
 *
 * FerretDB v1 does not apply a conditional update atomically: two `updateOne({_id, version: n})` or
 * `findOneAndUpdate` calls racing on one document both succeed (FerretDB#3040; reproduced by the
 * repository contract suite). What every MongoDB-compatible server does enforce atomically is a
 * unique index on insert. So each write inserts the next version as a new document under a unique
 * `(key, version)` index — of two writers of version n+1 exactly one wins, the other gets a
 * duplicate-key error — and superseded versions are removed afterwards. A delete writes a tombstone
 * version, so a writer that read the record before the delete cannot bring it back.
 */
export class VersionedCollection<T extends object> {
  private readonly collection: Collection<VersionDocument<T>>;

  /** The unique (key, version) index plus `extra` indexes over `data.*` fields. */
  static indexes(name: string, extra: readonly IndexDescription[] = []): IndexPlan {
    return {
      [name]: [{ key: { key: 1, version: -1 }, name: 'key_version', unique: true }, ...extra],
    };
  }

  constructor(
    db: Db,
    readonly name: string,
  ) {
    this.collection = db.collection<VersionDocument<T>>(name);
  }

  /** The current version of `key`, or undefined when it never existed or was deleted. */
  async latest(key: string): Promise<LatestVersion<T> | undefined> {
    const head = await this.head(key);
    return head && !head.deleted && head.data ? { key, version: head.version, data: head.data } : undefined;
  }

  /**
   * Writes `data` as the version after `expectedVersion` (0: the record must not exist or must be
   * deleted). Returns the new version, or 'conflict' when another writer got there first.
   */
  async write(
    key: string,
    expectedVersion: number,
    data: T,
  ): Promise<{ outcome: 'written'; version: number } | { outcome: 'conflict' }> {
    const head = await this.head(key);
    const headVersion = head?.version ?? 0;
    const live = head !== undefined && !head.deleted;
    if (expectedVersion === 0 ? live : !live || headVersion !== expectedVersion) return { outcome: 'conflict' };
    const version = headVersion + 1;
    const inserted = await this.insert({ key, version, data });
    if (!inserted) return { outcome: 'conflict' };
    await this.prune(key, version);
    return { outcome: 'written', version };
  }

  /**
   * Deletes `key` (a tombstone version). False when there was nothing to delete. With
   * `expectedVersion`, deletes only that version: ConflictError when the record changed since.
   */
  async remove(key: string, expectedVersion?: number): Promise<boolean> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const head = await this.head(key);
      if (!head || head.deleted) return false;
      if (expectedVersion !== undefined) {
        if (head.version !== expectedVersion || !(await this.insert({ key, version: expectedVersion + 1, deleted: true }))) {
          throw new ConflictError(`${this.name} ${JSON.stringify(key)} changed since version ${expectedVersion}; read it again`);
        }
        await this.prune(key, expectedVersion + 1);
        return true;
      }
      if (await this.insert({ key, version: head.version + 1, deleted: true })) {
        await this.prune(key, head.version + 1);
        return true;
      }
    }
    throw new ConflictError(`${this.name} ${JSON.stringify(key)} keeps changing; delete it again`);
  }

  /** Up to `limit` current records with key > `after`, in key order. */
  async page(after: string | undefined, limit: number): Promise<LatestVersion<T>[]> {
    const cursor = this.collection
      .find(after === undefined ? {} : { key: { $gt: after } })
      .sort({ key: 1, version: -1 })
      .batchSize(Math.min(1_000, limit * 2 + 10));
    const out: LatestVersion<T>[] = [];
    let lastKey: string | undefined;
    try {
      for await (const document of cursor) {
        if (document.key === lastKey) continue; // an older version not pruned yet
        lastKey = document.key;
        if (document.deleted || !document.data) continue;
        out.push({ key: document.key, version: document.version, data: document.data });
        if (out.length >= limit) break;
      }
    } catch (error) {
      throw wrap(this.name, error);
    } finally {
      await cursor.close();
    }
    return out;
  }

  private async head(key: string): Promise<VersionDocument<T> | undefined> {
    try {
      const document = await this.collection.findOne({ key }, { sort: { version: -1 }, projection: { _id: 0 } });
      return document ?? undefined;
    } catch (error) {
      throw wrap(this.name, error);
    }
  }

  /** True when inserted; false when that version already exists (another writer won). */
  private async insert(document: VersionDocument<T>): Promise<boolean> {
    try {
      await this.collection.insertOne(document as Parameters<Collection<VersionDocument<T>>['insertOne']>[0]);
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw wrap(this.name, error);
    }
  }

  /** Removes superseded versions (tombstones stay). Best effort: readers skip leftovers anyway. */
  private async prune(key: string, current: number): Promise<void> {
    await this.collection.deleteMany({ key, version: { $lt: current } }).catch(() => undefined);
  }
}

function wrap(name: string, error: unknown): unknown {
  return toStoreError(name, error);
}
