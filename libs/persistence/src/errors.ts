import { UnavailableError } from '@mailroute/platform';

/** The database could not be reached or did not answer in time; retryable. */
export class StoreUnavailableError extends UnavailableError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** MongoDB's duplicate-key error code (also returned by FerretDB and Cosmos DB). */
export const duplicateKeyCode = 11000;

export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === duplicateKeyCode;
}

/** Connection-level driver failures (network, server selection, pool) as opposed to bad commands. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return ['MongoNetworkError', 'MongoServerSelectionError', 'MongoNetworkTimeoutError', 'MongoPoolClearedError', 'MongoTopologyClosedError', 'MongoNotConnectedError'].includes(error.name);
}

/**
 * What a Mongo adapter throws for `error`: a connection-level failure becomes a retryable
 * StoreUnavailableError naming the store; anything else (duplicate key, bad command) passes through.
 */
export function toStoreError(store: string, error: unknown): unknown {
  return isConnectionError(error) ? new StoreUnavailableError(`mongodb: ${store} store unavailable`, error) : error;
}
