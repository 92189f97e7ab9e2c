/**
 * A sliding-window request budget ("N requests per app and mailbox in 10 minutes"), counted in
 * `buckets` equal slices of the window so memory stays constant however busy a mailbox is. Pure: the
 * caller passes the time.
 */
export interface RequestBudget {
  readonly limit: number;
  readonly windowMs: number;
  readonly bucketMs: number;
  /** [bucket start, count], oldest first. */
  readonly slices: Array<[number, number]>;
}

export function createRequestBudget(limit: number, windowMs: number, buckets = 60): RequestBudget {
  if (!(limit > 0) || !(windowMs > 0) || !(buckets > 0)) throw new RangeError('limit, windowMs and buckets must be positive');
  return { limit, windowMs, bucketMs: Math.max(1, Math.floor(windowMs / buckets)), slices: [] };
}

function expire(budget: RequestBudget, now: number): void {
  const horizon = now - budget.windowMs;
  while (budget.slices.length > 0 && (budget.slices[0]?.[0] ?? 0) + budget.bucketMs <= horizon) budget.slices.shift();
}

/** Requests counted in the window ending at `now`. */
export function usedBudget(budget: RequestBudget, now: number): number {
  expire(budget, now);
  return budget.slices.reduce((sum, [, count]) => sum + count, 0);
}

/**
 * Counts one request at `now` when the window has room and returns 0; otherwise counts nothing and
 * returns the whole seconds until the oldest slice leaves the window (at least 1), the Retry-After.
 */
export function takeFromBudget(budget: RequestBudget, now: number): number {
  if (usedBudget(budget, now) >= budget.limit) {
    const oldest = budget.slices[0]?.[0] ?? now;
    return Math.max(1, Math.ceil((oldest + budget.bucketMs + budget.windowMs - now) / 1000));
  }
  const start = Math.floor(now / budget.bucketMs) * budget.bucketMs;
  const last = budget.slices[budget.slices.length - 1];
  if (last && last[0] === start) last[1] += 1;
  else budget.slices.push([start, 1]);
  return 0;
}
