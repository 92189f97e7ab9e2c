import { nextThresholdPhase } from './alert-thresholds';

describe('nextThresholdPhase', () => {
  it('fires at the threshold and resolves only at or below 80 % of it', () => {
    expect(nextThresholdPhase('resolved', 9, 10)).toBeUndefined();
    expect(nextThresholdPhase('resolved', 10, 10)).toBe('firing');
    expect(nextThresholdPhase('firing', 9, 10)).toBeUndefined();
    expect(nextThresholdPhase('firing', 8, 10)).toBe('resolved');
    expect(nextThresholdPhase('firing', 0, 1)).toBe('resolved');
  });

  it('treats a threshold of 0 as off: nothing fires, a firing alert resolves', () => {
    expect(nextThresholdPhase('resolved', 1_000, 0)).toBeUndefined();
    expect(nextThresholdPhase('firing', 1_000, 0)).toBe('resolved');
  });

  it('never changes phase twice in a row for any sequence of values (no flapping inside the band)', () => {
    let phase: 'firing' | 'resolved' = 'resolved';
    let changes = 0;
    for (const value of [10, 9, 9.5, 8.5, 10, 12, 9, 8.1]) {
      const next = nextThresholdPhase(phase, value, 10);
      if (next) {
        phase = next;
        changes += 1;
      }
    }
    expect([phase, changes]).toEqual(['firing', 1]);
  });
});
