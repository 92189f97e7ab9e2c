import { backoffDelayMs } from './retry';

const options = { initialDelayMs: 100, maxDelayMs: 5_000 };
const lowest = () => 0;
const highest = () => 0.999_999;

describe('backoffDelayMs, the one backoff', () => {
  it('waits between half the step and the whole step after the first failure', () => {
    expect(backoffDelayMs(1, options, lowest)).toBe(50);
    expect(backoffDelayMs(1, options, highest)).toBe(100);
  });

  it('doubles the step with each further attempt', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, options, highest))).toEqual([100, 200, 400, 800, 1_600]);
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, options, lowest))).toEqual([50, 100, 200, 400, 800]);
  });

  it('stops growing at maxDelayMs, however many attempts failed', () => {
    for (const attempt of [7, 8, 20, 1_000, 100_000]) {
      expect(backoffDelayMs(attempt, options, highest)).toBe(5_000);
      expect(backoffDelayMs(attempt, options, lowest)).toBe(2_500);
    }
  });

  it('keeps every drawn wait within the upper half of the step (the jitter range)', () => {
    const waits = Array.from({ length: 2_000 }, () => backoffDelayMs(3, options));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(200);
    expect(Math.max(...waits)).toBeLessThanOrEqual(400);
    // Spread out, not one value: replicas that failed together do not retry in lockstep.
    expect(new Set(waits).size).toBeGreaterThan(100);
  });

  it('treats an attempt below 1 as the first and returns whole milliseconds', () => {
    expect(backoffDelayMs(0, options, highest)).toBe(100);
    expect(Number.isInteger(backoffDelayMs(2, { initialDelayMs: 3, maxDelayMs: 1_000 }, () => 0.3))).toBe(true);
  });

  it('is zero, not NaN, when the initial step is zero', () => {
    expect(backoffDelayMs(10_000, { initialDelayMs: 0, maxDelayMs: 1_000 })).toBe(0);
  });
});
