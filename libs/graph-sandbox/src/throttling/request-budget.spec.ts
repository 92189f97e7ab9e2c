import { createRequestBudget, takeFromBudget, usedBudget } from './request-budget';

describe('request budget (sliding window in slices)', () => {
  const windowMs = 600_000;

  it('admits up to the limit within a window and refuses the next with the seconds until room frees up', () => {
    const budget = createRequestBudget(3, windowMs, 60);
    const t0 = 1_000_000_000;
    expect(takeFromBudget(budget, t0)).toBe(0);
    expect(takeFromBudget(budget, t0 + 1_000)).toBe(0);
    expect(takeFromBudget(budget, t0 + 20_000)).toBe(0);
    // The oldest 10-second slice leaves the window 600 s after its start.
    expect(takeFromBudget(budget, t0 + 30_000)).toBe(580);
    expect(usedBudget(budget, t0 + 30_000)).toBe(3);
  });

  it('frees capacity as slices slide out of the window', () => {
    const budget = createRequestBudget(2, windowMs, 60);
    const t0 = 5_000_000_000;
    takeFromBudget(budget, t0);
    takeFromBudget(budget, t0 + 100_000);
    expect(takeFromBudget(budget, t0 + 200_000)).toBeGreaterThan(0);
    expect(takeFromBudget(budget, t0 + windowMs + 10_000)).toBe(0);
    expect(usedBudget(budget, t0 + windowMs + 10_000)).toBe(2);
  });

  it('does not count refused requests', () => {
    const budget = createRequestBudget(1, windowMs);
    takeFromBudget(budget, 0);
    takeFromBudget(budget, 1);
    takeFromBudget(budget, 2);
    expect(usedBudget(budget, 3)).toBe(1);
  });

  it('rejects a non-positive limit', () => {
    expect(() => createRequestBudget(0, windowMs)).toThrow(RangeError);
  });
});
