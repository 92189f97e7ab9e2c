import type { GraphRequest } from '@microsoft/microsoft-graph-client';
import { backoffDelayMs, sleep, type Logger } from '@mailroute/platform';
import { classifyGraphError } from './errors';
import { RequestFence } from './request-fence';
import { throttleEventOf, type GraphThrottleObserver, type GraphTokenProvider, type MailboxTarget } from './graph-mail.types';
import { throttlePauseWithoutRetryAfterMs, type MailboxLimiter } from './mailbox-limiter';

/** How a mailbox's calls are made: limited, retried and classified (createMailboxCall below). */
export type MailboxCall = <T>(
  what: string,
  build: (url: (path: string) => string) => GraphRequest,
  run: (request: GraphRequest) => Promise<T>,
) => Promise<T>;

/** Ids that survive a move between folders (https://learn.microsoft.com/graph/outlook-immutable-id). */
export const preferImmutable = 'IdType="ImmutableId"';

/** How long one Graph request may take before it is aborted and classified as unavailable (both clients). */
export const defaultGraphRequestTimeoutMs = 30_000;

/** The limiter key of a mailbox: Graph's budget is per app and mailbox. */
export function mailboxKey(target: MailboxTarget): string {
  const principal = target.principal.kind === 'app-only' ? `app:${target.principal.credentialsId}` : 'delegated';
  return `${target.tenantId}/${principal}/${target.address.toLowerCase()}`;
}

/**
 * The backoff between attempts of a call that Graph answered with a 5xx or that did not reach it:
 * 200 ms first, because a Graph front end that dropped one request usually takes the next; 5 s cap,
 * because the call holds a worker (and, between attempts, its caller) and gives up after
 * `maxAttempts` anyway — a longer outage is the caller's to reschedule.
 */
const unavailableBackoff = { initialDelayMs: 200, maxDelayMs: 5_000 };

/** How one client's calls on a mailbox are made (the mail client's and the send client's settings differ). */
export interface MailboxCallSettings {
  tokens: GraphTokenProvider;
  limiter: MailboxLimiter;
  clock: () => number;
  requestTimeoutMs: number;
  /** Attempts per call, counting the one retry with a fresh token after a 401. */
  maxAttempts: number;
  /**
   * Whether a throttled (429, 503 with Retry-After) or unavailable (5xx, no response) attempt is tried again.
   * A throttle always pauses the mailbox in the limiter first; a Retry-After longer than `maxInlineWaitMs`
   * is never waited out inside the call. Off for sends, which must not be repeated blindly.
   */
  retryTransient: boolean;
  maxInlineWaitMs: number;
  /** Names the client in log lines ('graph-mail', 'graph-send'). */
  logName: string;
  logger?: Logger | undefined;
  onThrottled?: GraphThrottleObserver | undefined;
  /**
   * Called inside the mailbox's slot as the last step before each request is handed to fetch (request-fence.ts);
   * what it throws ends the call unchanged.
   */
  beforeRequest?: (() => void) | undefined;
  /** Aborts the call: a wait for a slot, the request in flight; the call then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * The one call path of both Graph clients: a token (fresh after a 401), the mailbox's limiter slot, a
 * per-request timeout, classification into GraphMailError, and the retry rules of `settings`. Paths starting
 * with `https://` are used as they are (nextLink, deltaLink), `/…` from the version root (`/subscriptions`),
 * anything else under the mailbox's user.
 */
export function createMailboxCall(target: MailboxTarget, settings: MailboxCallSettings): MailboxCall {
  const key = mailboxKey(target);
  const userSegment = `users/${encodeURIComponent(target.address)}`;
  const { limiter, clock, beforeRequest, signal } = settings;

  return async function call<T>(
    what: string,
    build: (url: (path: string) => string) => GraphRequest,
    run: (request: GraphRequest) => Promise<T>,
  ): Promise<T> {
    let forceRefresh = false;
    let refused: { error: unknown } | undefined;
    for (let attempt = 1; ; attempt += 1) {
      signal?.throwIfAborted();
      const token = await settings.tokens.getToken(target.tenantId, target.principal, { forceRefresh });
      const base = token.graphEndpoint.replace(/\/+$/, '');
      try {
        return await limiter.run(
          key,
          async () => {
            let request = build((path) =>
              path.startsWith('https://')
                ? path
                : path.startsWith('/')
                  ? `${base}/v1.0${path}`
                  : `${base}/v1.0/${userSegment}/${path}`,
            )
              .header('Authorization', `Bearer ${token.accessToken}`)
              .option(
                'signal',
                signal
                  ? AbortSignal.any([signal, AbortSignal.timeout(settings.requestTimeoutMs)])
                  : AbortSignal.timeout(settings.requestTimeoutMs),
              );
            if (beforeRequest) {
              const check = () => {
                try {
                  beforeRequest();
                } catch (error) {
                  refused = { error };
                  throw error;
                }
              };
              request = request.middlewareOptions([new RequestFence(check, clock)]);
            }
            return await run(request);
          },
          signal,
        );
      } catch (raw) {
        // The fence's refusal reaches here wrapped by the Graph client: rethrow it as it was thrown.
        if (refused) throw refused.error;
        signal?.throwIfAborted();
        const error = classifyGraphError(raw, clock());
        const throttle = throttleEventOf(error, target, what);
        if (throttle) settings.onThrottled?.(throttle);
        const last = attempt >= settings.maxAttempts;
        if (error.kind === 'throttled') {
          const waitMs = error.retryAfterMs ?? throttlePauseWithoutRetryAfterMs;
          limiter.pause(key, clock() + waitMs);
          settings.logger?.debug({ mailbox: target.address, what, waitMs }, `${settings.logName}: throttled`);
          if (!settings.retryTransient || last || waitMs > settings.maxInlineWaitMs) throw error;
          continue;
        }
        if (error.kind === 'unavailable' && settings.retryTransient && !last) {
          await sleep(Math.max(backoffDelayMs(attempt, unavailableBackoff), error.retryAfterMs ?? 0), signal);
          continue;
        }
        if (error.kind === 'unauthorized' && !forceRefresh && !last) {
          forceRefresh = true;
          continue;
        }
        throw error;
      }
    }
  };
}
