import { DatabaseSync } from 'node:sqlite';
import { ensurePrivateSqliteFile } from '@mailroute/platform';

export interface EmbeddedStoreOptions {
  /** Database file, or ':memory:'. Parent folders are created (0700), the files are the service user's only (0600). */
  path: string;
}

/**
 * The embedded store of the single-process default: SQLite through Node's built-in `node:sqlite`
 * (no native addon), one file on local disk, WAL journaling so readers don't block the writer.
 * Documents are stored as JSON with Dates tagged, so records round-trip like they do in MongoDB.
 */
export class EmbeddedStore {
  readonly db: DatabaseSync;

  constructor(options: EmbeddedStoreOptions) {
    ensurePrivateSqliteFile(options.path);
    this.db = new DatabaseSync(options.path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

/** JSON with Dates preserved as `{ "$date": iso }`. */
export function toJsonDocument(value: unknown): string {
  return JSON.stringify(value, function replacer(this: Record<string, unknown>, key, item: unknown) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.toISOString() } : item;
  });
}

export function fromJsonDocument<T>(text: string): T {
  return JSON.parse(text, (_key, item: unknown) => {
    if (item && typeof item === 'object' && '$date' in item && typeof (item as { $date: unknown }).$date === 'string') {
      return new Date((item as { $date: string }).$date);
    }
    return item;
  }) as T;
}
