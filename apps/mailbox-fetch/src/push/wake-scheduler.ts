import type { Logger } from '@mailroute/platform';
import type { MailboxWakeUps } from '../sync/mailbox-wake-ups';

/**
 * Turns notifications into delta rounds without trusting or multiplying them: the first wake-up of a
 * mailbox starts a round at once; further ones within `debounceMs` coalesce into one round at the end of
 * the window (a round already running is followed by at most one more). A mailbox another replica owns
 * is woken through the mailbox wake-ups (a Kafka event its owner reads, the stored request as fallback).
 */
export function createWakeScheduler(deps: {
  wakeUps: Pick<MailboxWakeUps, 'request'>;
  logger: Logger;
  clock: () => number;
  debounceMs: number;
}) {
  const lastFired = new Map<string, number>();
  const pending = new Map<string, { timer: NodeJS.Timeout; notifiedAt: number }>();
  let stopped = false;

  const fire = (key: string, fullResync: boolean, notifiedAt: number) => {
    pending.delete(key);
    if (stopped) return;
    lastFired.set(key, deps.clock());
    void deps.wakeUps
      .request(key, fullResync, notifiedAt)
      .catch((error: unknown) =>
        deps.logger.warn({ err: error, mailbox: key }, 'mailbox-fetch: wake-up not forwarded to the owner'),
      );
  };

  return {
    /** Wakes `key`'s delta sync (debounced); `fullResync` re-reads the folder. */
    wake(key: string, fullResync = false): void {
      if (stopped || pending.has(key)) return;
      const now = deps.clock();
      const last = lastFired.get(key);
      if (last === undefined || now - last >= deps.debounceMs) return fire(key, fullResync, now);
      const timer = setTimeout(() => fire(key, fullResync, now), last + deps.debounceMs - now);
      timer.unref();
      pending.set(key, { timer, notifiedAt: now });
    },
    stop(): void {
      stopped = true;
      for (const { timer } of pending.values()) clearTimeout(timer);
      pending.clear();
    },
  };
}

export type WakeScheduler = ReturnType<typeof createWakeScheduler>;
