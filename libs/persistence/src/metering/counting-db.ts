import type { Collection, Db } from 'mongodb';
import type { StoreOperationCounter, StoreOperationKind } from './store-operations';

/**
 * The kind of each driver call that is one round trip to the server. A cursor (`find`, `aggregate`)
 * counts once: its first batch; the router's reads are bounded and fit one batch.
 */
const collectionOperationKinds: Partial<Record<string, StoreOperationKind>> = {
  findOne: 'read',
  find: 'read',
  aggregate: 'read',
  distinct: 'read',
  countDocuments: 'read',
  estimatedDocumentCount: 'read',
  insertOne: 'insert',
  insertMany: 'insert',
  replaceOne: 'update',
  updateOne: 'update',
  updateMany: 'update',
  findOneAndUpdate: 'update',
  findOneAndReplace: 'update',
  bulkWrite: 'update',
  deleteOne: 'delete',
  deleteMany: 'delete',
  findOneAndDelete: 'delete',
};

function countingCollection<T extends object>(collection: Collection<T>, counter: StoreOperationCounter): Collection<T> {
  return new Proxy(collection, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      const kind = typeof property === 'string' ? collectionOperationKinds[property] : undefined;
      if (!kind) return method.bind(target);
      return (...args: unknown[]) => {
        counter.record(kind);
        return method.apply(target, args);
      };
    },
  });
}

/**
 * `db` whose collections count every round trip to the server in `counter`: the MongoDB adapter's
 * real cost per port call (a commit is a history insert, a replace and a look for a newer version).
 */
export function countingDb(db: Db, counter: StoreOperationCounter): Db {
  return new Proxy(db, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === 'collection')
        return (name: string, options?: Parameters<Db['collection']>[1]) =>
          countingCollection(target.collection(name, options), counter);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
