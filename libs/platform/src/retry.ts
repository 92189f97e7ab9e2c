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
function retryAfterMs(error: unknown): number | undefined {
  if (isMailrouteError(error)) return error.retryAfterMs;
  return undefined;
}

/**
 * The timing of a retry: the wait before retry number `attempt` grows exponentially from
 * `initialDelayMs` (doubling each time) up to `maxDelayMs`. Every component that retries states its
 * own values beside its options and says why; `defaultRetryOptions` holds the ones of `withRetry`.
 */
export interface BackoffOptions {
  /** The step before the first retry, in ms. */
  initialDelayMs: number;
  /** The largest step, in ms; the growth stops here. */
  maxDelayMs: number;
}

export interface RetryOptions extends Partial<BackoffOptions> {
  /** Attempts in total, including the first. */
  maxAttempts?: number;
  /** Stops retrying (and sleeping) when aborted. */
  signal?: AbortSignal;
  /** Called before each wait; for logging. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** The defaults of `withRetry`, for a call retried while a caller waits for it. */
const defaultRetryOptions = {
  /**
   * Five attempts: with the steps below they span about 1.5 s, which rides out a broker leader
   * election or a store failover without holding the caller long; a longer outage is the caller's
   * (it retries across calls, with its own attempt count).
   */
  maxAttempts: 5,
  /** 100 ms: short enough that a blip costs the caller little, long enough not to hammer a dependency. */
  initialDelayMs: 100,
  /** 5 s: above this a caller waiting inline is better served by an error it can reschedule. */
  maxDelayMs: 5_000,
} as const satisfies Required<Pick<RetryOptions, 'maxAttempts'>> & BackoffOptions;

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
 * `backoffDelayMs`, or exactly the Retry-After the error carries when longer. Defaults:
 * `defaultRetryOptions`.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { maxAttempts, initialDelayMs, maxDelayMs } = { ...defaultRetryOptions, ...definedOnly(options) };
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
 * Growth stops doubling here: 2^30 steps are far past any cap, and a bounded exponent keeps the
 * product finite (0 × Infinity would be NaN).
 */
const maxDoublings = 30;

/**
 * The project's one backoff: the wait in whole ms before retry number `attempt` (1 = after the
 * first failure), for `withRetry` and for work retried across calls and restarts (it stores its
 * attempt count and asks here).
 *
 * The step is `initialDelayMs · 2^(attempt−1)`, capped at `maxDelayMs`; the wait is drawn uniformly
 * from the upper half of the step ("equal jitter"). Why this jitter: replicas that failed together
 * spread out over half a step instead of retrying in lockstep, while no retry comes sooner than half
 * its step — a failing mailbox, send or stream never retries at once, and the growth stays visible.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const doublings = Math.min(maxDoublings, Math.max(0, attempt - 1));
  const step = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** doublings);
  return Math.round(step / 2 + (step / 2) * random());
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

/** `options` without the keys whose value is undefined, so a spread keeps the default. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
