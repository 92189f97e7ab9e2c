import { ClientError, Status } from 'nice-grpc-common';
import { isMailrouteError } from './errors';

const retryableGrpcStatuses: ReadonlySet<Status> = new Set([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.RESOURCE_EXHAUSTED,
  Status.ABORTED,
]);

/**
 * Whether an operation that failed with `error` may succeed if repeated. The one place that decides:
 * it reads error properties (our `retryable` flag, a gRPC status, a `retriable` flag set by kafkajs),
 * never message text.
 */
export function isRetryable(error: unknown): boolean {
  if (isMailrouteError(error)) return error.retryable;
  if (error instanceof ClientError) return retryableGrpcStatuses.has(error.code);
  if (typeof error === 'object' && error !== null) {
    const flagged = error as { retriable?: unknown; retryable?: unknown };
    if (typeof flagged.retriable === 'boolean') return flagged.retriable;
    if (typeof flagged.retryable === 'boolean') return flagged.retryable;
  }
  return false;
}

/** The wait a dependency asked for (Retry-After), when the error carries one. */
export function retryAfterMs(error: unknown): number | undefined {
  if (isMailrouteError(error)) return error.retryAfterMs;
  return undefined;
}

export interface RetryOptions {
  /** Attempts in total, including the first. Default 5. */
  maxAttempts?: number;
  /** First backoff in ms. Default 100. */
  initialDelayMs?: number;
  /** Backoff cap in ms. Default 5_000. */
  maxDelayMs?: number;
  /** Stops retrying (and sleeping) when aborted. */
  signal?: AbortSignal;
  /** Called before each wait; for logging. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Thrown when every attempt failed; `attempts` keeps each attempt's error in order. */
export class RetriesExhaustedError extends AggregateError {
  constructor(readonly attempts: unknown[]) {
    super(attempts, `gave up after ${attempts.length} attempt(s): ${describe(attempts.at(-1))}`, {
      cause: attempts.at(-1),
    });
    this.name = 'RetriesExhaustedError';
  }
}

/**
 * Runs `operation` until it succeeds, the error is not retryable, or attempts run out. Waits with
 * exponential backoff and full jitter, or exactly the Retry-After the error carries when longer.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 5;
  const initialDelayMs = options.initialDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const errors: unknown[] = [];
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation(attempt);
    } catch (error) {
      errors.push(error);
      if (!isRetryable(error)) throw errors.length === 1 ? error : new RetriesExhaustedError(errors);
      if (attempt >= maxAttempts || options.signal?.aborted) throw new RetriesExhaustedError(errors);
      const delayMs = Math.max(backoffDelayMs(attempt, { initialDelayMs, maxDelayMs }), retryAfterMs(error) ?? 0);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

/**
 * The project's one backoff: the wait before retry number `attempt` (1 = after the first failure),
 * exponential from `initialDelayMs`, capped at `maxDelayMs`, with full jitter. Used by `withRetry`
 * and by work that is retried across calls and restarts (it stores the attempt count and asks here).
 */
export function backoffDelayMs(
  attempt: number,
  options: { initialDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  return Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, attempt - 1)) * random();
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
