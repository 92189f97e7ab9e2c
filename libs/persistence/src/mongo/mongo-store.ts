import { MongoClient, type Db, type IndexDescription } from 'mongodb';
import type { Logger } from '@mailroute/platform';
import { StoreUnavailableError } from '../errors';
import { countingDb } from '../metering/counting-db';
import type { StoreOperationCounter } from '../metering/store-operations';

export interface MongoStoreOptions {
  /** mongodb:// or mongodb+srv:// URL. */
  url: string;
  /** Database name; one per deployment (tests use one per test). */
  database: string;
  /** Reported to the server, e.g. the service name. */
  appName: string;
  logger?: Logger;
  /** How long to look for a reachable server before failing a call. Default 10 s. */
  serverSelectionTimeoutMs?: number;
  /** Counts every round trip of the collections' operations (benchmarks); none = not counted. */
  operations?: StoreOperationCounter | undefined;
}

/** Index definitions per collection, created at start-up (idempotent). Every index needs a `name`. */
export type IndexPlan = Readonly<Record<string, readonly IndexDescription[]>>;

/**
 * The MongoDB connection of a service. Uses only the portable subset (ARCHITECTURE.md): it works
 * against MongoDB, FerretDB, Cosmos DB for MongoDB vCore and DocumentDB alike — no transactions,
 * no change streams, no TTL indexes.
 */
export class MongoStore {
  private constructor(
    readonly client: MongoClient,
    readonly db: Db,
    private readonly logger: Logger | undefined,
  ) {}

  /** Connects and checks the server answers (`ping`); StoreUnavailableError otherwise. */
  static async connect(options: MongoStoreOptions): Promise<MongoStore> {
    const client = new MongoClient(options.url, {
      appName: options.appName,
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000,
      // Portable subset: retryable writes need a replica set, which FerretDB and some hosted
      // services don't advertise; our writes are idempotent by key instead.
      retryWrites: false,
    });
    try {
      await client.connect();
      const db = client.db(options.database);
      await db.command({ ping: 1 });
      return new MongoStore(client, options.operations ? countingDb(db, options.operations) : db, options.logger);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw new StoreUnavailableError(`mongodb: cannot reach ${redactUrl(options.url)}`, error);
    }
  }

  /** Creates every index of `plan` that is missing. Safe to run from every replica at start-up. */
  async ensureIndexes(plan: IndexPlan): Promise<void> {
    for (const [collection, indexes] of Object.entries(plan)) {
      // Create only the missing ones: FerretDB v1 panics and drops the connection when
      // createIndexes names an index that already exists ("slice bounds out of range").
      const existing = new Set(
        (
          await this.db
            .collection(collection)
            .listIndexes()
            .toArray()
            .catch(() => [])
        ).map((index) => index.name as string),
      );
      const missing = indexes.filter((index) => !index.name || !existing.has(index.name));
      if (missing.length === 0) continue;
      await this.db.collection(collection).createIndexes([...missing]);
      this.logger?.debug({ collection, created: missing.map((i) => i.name) }, 'mongodb: indexes created');
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Hides the password of a connection URL. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}
