import type { Clock } from '../shared/clock';
import type { ThrottlingSettings } from '../model/model.types';
import { createRequestBudget, takeFromBudget, type RequestBudget } from './request-budget';

export type LimiterDecision =
  { ok: true; release: () => void } | { ok: false; reason: 'concurrency' | 'budget'; retryAfterSeconds: number };

/**
 * Outlook's per app-and-mailbox limits: at most `maxConcurrentRequests` in flight (a request over it is
 * refused at once, not queued) and `requestsPerWindow` per sliding `windowSeconds`. Keys are
 * `<appId>|<mailboxId>`; other mailboxes are never affected.
 */
export function createMailboxLimiter(clock: Clock) {
  const inFlight = new Map<string, number>();
  const budgets = new Map<string, RequestBudget>();

  return {
    tryAcquire(appId: string, mailboxId: string, settings: ThrottlingSettings): LimiterDecision {
      const key = `${appId}|${mailboxId}`;
      const current = inFlight.get(key) ?? 0;
      if (current >= settings.maxConcurrentRequests) {
        return { ok: false, reason: 'concurrency', retryAfterSeconds: settings.concurrencyRetryAfterSeconds };
      }
      const windowMs = settings.windowSeconds * 1000;
      let budget = budgets.get(key);
      if (!budget || budget.limit !== settings.requestsPerWindow || budget.windowMs !== windowMs) {
        budget = createRequestBudget(settings.requestsPerWindow, windowMs);
        budgets.set(key, budget);
      }
      const retryAfterSeconds = takeFromBudget(budget, clock());
      if (retryAfterSeconds > 0) return { ok: false, reason: 'budget', retryAfterSeconds };
      inFlight.set(key, current + 1);
      let released = false;
      return {
        ok: true,
        release: () => {
          if (released) return;
          released = true;
          const left = (inFlight.get(key) ?? 1) - 1;
          if (left <= 0) inFlight.delete(key);
          else inFlight.set(key, left);
        },
      };
    },
    /** Requests now in flight for the pair. */
    inFlight: (appId: string, mailboxId: string) => inFlight.get(`${appId}|${mailboxId}`) ?? 0,
    reset(): void {
      inFlight.clear();
      budgets.clear();
    },
  };
}

export type MailboxLimiter = ReturnType<typeof createMailboxLimiter>;
