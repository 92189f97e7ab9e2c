/** One entry of a DocumentTable listing. */
export interface KeyedDocument<T> {
  key: string;
  document: T;
}

export interface DocumentListOptions {
  /** Only keys starting with this (e.g. `<tenant id>/`). */
  prefix: string;
  /** Only keys after this one (keyset pagination); unset starts at the prefix. */
  after?: string | undefined;
  limit: number;
}

/**
 * Documents under string keys with last-writer-wins puts and atomic first inserts: the portable
 * subset every backend applies atomically (FerretDB v1 included). For state whose writes never
 * race destructively (token cache blobs, grant states, sign-in sessions, health snapshots); state
 * that needs compare-and-set uses a versioned repository instead.
 *
 * Keys are ASCII and ordered bytewise; `/` separates their parts by convention.
 */
export interface DocumentTable<T extends object> {
  get(key: string): Promise<T | undefined>;
  /** Stores `document` under `key`, replacing what was there. */
  put(key: string, document: T): Promise<void>;
  /** Stores `document` only when `key` is free: true when inserted, false when it existed. Atomic. */
  insert(key: string, document: T): Promise<boolean>;
  /** True when something was deleted. */
  delete(key: string): Promise<boolean>;
  /** Deletes every key of `keys` that exists, in one round trip; returns how many. */
  deleteMany(keys: readonly string[]): Promise<number>;
  /** Deletes every key starting with `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Up to `limit` entries whose key starts with `prefix` (and follows `after`), in key order. */
  list(options: DocumentListOptions): Promise<KeyedDocument<T>[]>;
}

/** The exclusive upper bound of keys starting with `prefix` (keys are ASCII). */
export function prefixEnd(prefix: string): string {
  return `${prefix}\uffff`;
}
