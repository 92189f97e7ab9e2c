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
