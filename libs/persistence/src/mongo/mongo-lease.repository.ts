import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError, toStoreError } from '../errors';
import type { Lease, LeaseRepository } from '../ports/lease.repository';
import type { IndexPlan, MongoStore } from './mongo-store';

const collectionName = 'leases';

interface LeaseDocument {
  key: string;
  epoch: number;
  owner: string;
  expiresAt: Date;
  released?: true;
}

/** Indexes of the lease collection: the unique (key, epoch) that makes acquisition atomic. */
export const leaseIndexes: IndexPlan = {
  [collectionName]: [{ key: { key: 1, epoch: -1 }, name: 'key_epoch', unique: true }],
};

/** Holdings older than this (past their expiry) are pruned; far longer than any read → insert gap. */
const pruneAfterMs = 10 * 60_000;

/**
 * Leases on MongoDB built only on unique inserts, because FerretDB v1 does not apply conditional
 * updates atomically. Each acquisition inserts the next epoch of the key under a unique
 * (key, epoch) index: of two replicas that saw the same free head exactly one inserts epoch n+1.
 * Releasing marks the holder's own epoch (no one else writes it). Old epochs are pruned only long
 * after they expired, so a reader can never see a pruned head and re-insert a live epoch.
 */
export class MongoLeaseRepository implements LeaseRepository {
  private readonly collection: Collection<LeaseDocument>;

  constructor(store: MongoStore | { db: Db }) {
    this.collection = store.db.collection<LeaseDocument>(collectionName);
  }

  async tryAcquire(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease | undefined> {
    try {
      const head = await this.collection.findOne({ key }, { sort: { epoch: -1 }, projection: { _id: 0 } });
      if (head && !head.released && head.expiresAt.getTime() > now.getTime()) return undefined;
      const lease: Lease = { key, owner, epoch: (head?.epoch ?? 0) + 1, expiresAt: new Date(now.getTime() + ttlMs) };
      try {
        await this.collection.insertOne({ ...lease });
      } catch (error) {
        if (isDuplicateKeyError(error)) return undefined;
        throw error;
      }
      void this.collection
        .deleteMany({ key, epoch: { $lt: lease.epoch }, expiresAt: { $lt: new Date(now.getTime() - pruneAfterMs) } })
        .catch(() => undefined);
      return lease;
    } catch (error) {
      throw wrap(error);
    }
  }

  async release(lease: Lease): Promise<void> {
    try {
      await this.collection.updateOne({ key: lease.key, epoch: lease.epoch, owner: lease.owner }, { $set: { released: true } });
    } catch (error) {
      throw wrap(error);
    }
  }
}

function wrap(error: unknown): unknown {
  return toStoreError('lease', error);
}
