import { AsyncResource } from 'node:async_hooks';

/**
 * How long a mailbox pauses after a throttling answer that named no Retry-After (Graph sends one
 * almost always): 1 s, about the shortest Retry-After Graph gives, so the pause neither hammers a
 * throttled mailbox nor idles it long.
 */
export const throttlePauseWithoutRetryAfterMs = 1_000;

/** Options of createMailboxLimiter; every field has a default. */
export interface MailboxLimiterOptions {
  /** Concurrent requests per mailbox. Default 3 (fetch's share of Outlook's 4; outbound-send uses 1). */
  perMailbox?: number;
  /** Concurrent requests over all mailboxes in the process. Default 64. */
  global?: number;
  clock?: () => number;
}

export interface MailboxLimiter {
  /**
   * Runs `task` once the mailbox is not paused and a slot of the mailbox and a global slot are
   * free. Waiters of one mailbox are served first in, first out; a paused or saturated mailbox
   * never holds a global slot while it waits, so it cannot stall the others.
   */
  run<T>(mailboxKey: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Holds back new requests of the mailbox until `untilMs` (Retry-After); never shortens a pause. */
  pause(mailboxKey: string, untilMs: number): void;
  /** When the mailbox's pause ends, if it is paused now. */
  pausedUntil(mailboxKey: string): number | undefined;
  /** Requests in flight now (for one mailbox, or in total). */
  inFlight(mailboxKey?: string): number;
  /** Highest number of requests one mailbox ever had in flight. */
  readonly peakPerMailbox: number;
}

interface Waiter {
  start: () => void;
  reject: (error: unknown) => void;
}

interface MailboxState {
  running: number;
  queue: Waiter[];
  pausedUntil: number;
  timer?: NodeJS.Timeout | undefined;
}

class AbortedError extends Error {
  constructor() {
    super('aborted while waiting for a Graph request slot');
    this.name = 'AbortError';
  }
}

/** Default options merged in one place. */
function defaultMailboxLimiterOptions(options: MailboxLimiterOptions = {}): Required<MailboxLimiterOptions> {
  const merged = { perMailbox: 3, global: 64, clock: Date.now, ...options };
  if (!Number.isInteger(merged.perMailbox) || merged.perMailbox < 1 || merged.perMailbox > 4) {
    throw new RangeError('perMailbox must be an integer from 1 to 4 (Outlook allows 4 concurrent requests per app and mailbox)');
  }
  if (!Number.isInteger(merged.global) || merged.global < 1) throw new RangeError('global must be a positive integer');
  return merged;
}

/**
 * A per-mailbox concurrency limiter with Retry-After pauses and a global bound, shared by every
 * caller in the process (create one per process and pass it to every GraphMailClient).
 */
export function createMailboxLimiter(options: MailboxLimiterOptions = {}): MailboxLimiter {
  const { perMailbox, global, clock } = defaultMailboxLimiterOptions(options);
  const mailboxes = new Map<string, MailboxState>();
  /** Mailboxes with a runnable head waiter, waiting for a global slot, in arrival order (fair). */
  const ready: string[] = [];
  let globalRunning = 0;
  let peak = 0;

  const stateOf = (key: string): MailboxState => {
    let state = mailboxes.get(key);
    if (!state) {
      state = { running: 0, queue: [], pausedUntil: 0 };
      mailboxes.set(key, state);
    }
    return state;
  };

  function runnable(key: string, state: MailboxState): boolean {
    if (state.queue.length === 0 || state.running >= perMailbox) return false;
    const wait = state.pausedUntil - clock();
    if (wait > 0) {
      if (!state.timer) {
        state.timer = setTimeout(() => {
          state.timer = undefined;
          schedule(key);
        }, wait);
        state.timer.unref?.();
      }
      return false;
    }
    return true;
  }

  function schedule(key: string): void {
    const state = mailboxes.get(key);
    if (state && runnable(key, state) && !ready.includes(key)) ready.push(key);
    drain();
  }

  function drain(): void {
    while (globalRunning < global && ready.length > 0) {
      const key = ready.shift() as string;
      const state = mailboxes.get(key);
      if (!state || !runnable(key, state)) continue;
      const waiter = state.queue.shift() as Waiter;
      state.running += 1;
      globalRunning += 1;
      peak = Math.max(peak, state.running);
      waiter.start();
      if (runnable(key, state)) ready.push(key);
    }
  }

  function release(key: string): void {
    const state = stateOf(key);
    state.running -= 1;
    globalRunning -= 1;
    if (state.running === 0 && state.queue.length === 0 && !state.timer && state.pausedUntil <= clock()) mailboxes.delete(key);
    schedule(key);
  }

  return {
    run<T>(mailboxKey: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(new AbortedError());
      return new Promise<T>((resolve, reject) => {
        const state = stateOf(mailboxKey);
        const onAbort = () => {
          const index = state.queue.indexOf(waiter);
          if (index >= 0) {
            state.queue.splice(index, 1);
            reject(new AbortedError());
          }
        };
        const waiter: Waiter = {
          // Bound to the caller's async context: a queued task started by another call's release
          // still runs in its own caller's trace (AsyncLocalStorage), not the releasing one's.
          start: AsyncResource.bind(() => {
            signal?.removeEventListener('abort', onAbort);
            task()
              .then(resolve, reject)
              .finally(() => release(mailboxKey));
          }),
          reject,
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        state.queue.push(waiter);
        schedule(mailboxKey);
      });
    },
    pause(mailboxKey, untilMs) {
      const state = stateOf(mailboxKey);
      if (untilMs <= state.pausedUntil) return;
      state.pausedUntil = untilMs;
      if (state.timer) {
        clearTimeout(state.timer);
        state.timer = undefined;
      }
      const index = ready.indexOf(mailboxKey);
      if (index >= 0) ready.splice(index, 1);
      schedule(mailboxKey);
    },
    pausedUntil(mailboxKey) {
      const until = mailboxes.get(mailboxKey)?.pausedUntil ?? 0;
      return until > clock() ? until : undefined;
    },
    inFlight(mailboxKey) {
      return mailboxKey === undefined ? globalRunning : (mailboxes.get(mailboxKey)?.running ?? 0);
    },
    get peakPerMailbox() {
      return peak;
    },
  };
}
