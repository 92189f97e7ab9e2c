/** What is known about one stored blob. */
export interface BlobInfo {
  /** The caller's key (`<tenant>/…`, ASCII). */
  key: string;
  /** File name as given (display only; never a path). */
  name: string;
  /** MIME type as given. */
  contentType: string;
  sizeBytes: number;
  /** Lower-case hex SHA-256 of the content, computed while storing. */
  sha256: string;
  createdAt: Date;
  /** When the sweep may delete it; unset: kept until deleted. */
  expiresAt?: Date | undefined;
}

export interface BlobWriteOptions {
  name: string;
  contentType: string;
  /** Unset: kept until deleted. */
  expiresAt?: Date | undefined;
}

/** Content handed to {@link BlobStore.put}: bytes, or chunks in order. */
export type BlobSource = Uint8Array | AsyncIterable<Uint8Array>;

/**
 * Attachment content and other large bytes, stored in a store built for blobs (GridFS on MongoDB,
 * private files on the embedded store) so no document ever holds the bytes (MongoDB's 16 MB limit).
 *
 * A blob is visible only once completely written: readers never see part of one, and a write whose
 * source fails (or throws, e.g. a size check) leaves nothing behind. Writing a key again replaces
 * the blob (readers get the old or the new content, whole). Keys are ASCII; `/` separates parts.
 */
export interface BlobStore {
  /** Stores the content of `source` under `key`; resolves with its size and SHA-256. */
  put(key: string, source: BlobSource, options: BlobWriteOptions): Promise<BlobInfo>;
  /** The blob's description; undefined when there is none. */
  stat(key: string): Promise<BlobInfo | undefined>;
  /** The content, in order, in chunks of at most `chunkBytes` (default 1 MiB). Throws BlobNotFoundError. */
  read(key: string, options?: { chunkBytes?: number }): AsyncIterable<Buffer>;
  /** Sets (or with undefined clears: kept until deleted) when the sweep may delete the blob. False when there is no such blob. */
  setExpiry(key: string, expiresAt: Date | undefined): Promise<boolean>;
  /** True when something was deleted. */
  delete(key: string): Promise<boolean>;
  /** Deletes up to `limit` blobs (default 100) whose expiry is at or before `now`; returns their keys. */
  deleteExpired(now: Date, limit?: number): Promise<string[]>;
}

/** The default chunk size of {@link BlobStore.read}: the size of one gRPC stream message. */
export const defaultBlobChunkBytes = 1_048_576;

/** The chunks of `source`, each cut to at most `chunkBytes`. */
export async function* rechunk(source: AsyncIterable<Uint8Array>, chunkBytes: number): AsyncIterable<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let buffer = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (buffer.length > 0) {
      const take = Math.min(buffer.length, chunkBytes - pendingBytes);
      pending.push(buffer.subarray(0, take));
      pendingBytes += take;
      buffer = buffer.subarray(take);
      if (pendingBytes === chunkBytes) {
        yield Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** `source` as chunks. */
export async function* toChunks(source: BlobSource): AsyncIterable<Uint8Array> {
  if (source instanceof Uint8Array) yield source;
  else yield* source;
}
