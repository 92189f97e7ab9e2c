import { NotFoundError, UnavailableError } from '@mailroute/platform';

/** The database could not be reached or did not answer in time; retryable. */
export class StoreUnavailableError extends UnavailableError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** MongoDB's duplicate-key error code (also returned by FerretDB and Cosmos DB). */
const duplicateKeyCode = 11000;

export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === duplicateKeyCode;
}

/** Connection-level driver failures (network, server selection, pool) as opposed to bad commands. */
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return [
    'MongoNetworkError',
    'MongoServerSelectionError',
    'MongoNetworkTimeoutError',
    'MongoPoolClearedError',
    'MongoTopologyClosedError',
    'MongoNotConnectedError',
  ].includes(error.name);
}

/** Server answers that mean "not now" rather than "no": a failover, a shutdown, a time limit, a busy engine. */
const transientServerCodes: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * A server error worth retrying: the codes above, the driver's retryable labels, and FerretDB's
 * SQLite backend answering "database is locked (SQLITE_BUSY)" when a write waited too long for the
 * single write lock under load.
 */
export function isTransientServerError(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'MongoServerError') return false;
  const server = error as Error & { code?: unknown; hasErrorLabel?: (label: string) => boolean };
  if (typeof server.code === 'number' && transientServerCodes.has(server.code)) return true;
  if (server.hasErrorLabel?.('RetryableWriteError') || server.hasErrorLabel?.('TransientTransactionError')) return true;
  return /SQLITE_BUSY|database is locked/.test(error.message);
}

/**
 * What a Mongo adapter throws for `error`: a connection-level failure or a transient server answer
 * becomes a retryable StoreUnavailableError naming the store; anything else (duplicate key, bad
 * command) passes through.
 */
export function toStoreError(store: string, error: unknown): unknown {
  if (isConnectionError(error)) return new StoreUnavailableError(`mongodb: ${store} store unavailable`, error);
  if (isTransientServerError(error)) return new StoreUnavailableError(`mongodb: ${store} store busy; retry`, error);
  return error;
}

/** No blob is stored under the key (never stored, deleted, or expired and swept). */
export class BlobNotFoundError extends NotFoundError {
  constructor(key: string) {
    super('blob', key);
  }
}
