import { enumLabel, formatBytes, formatDuration } from './format';

describe('formats', () => {
  it('shows sizes in binary multiples', () => {
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(formatBytes(40 * 1024 * 1024)).toBe('40 MB');
  });

  it('shows durations in the largest sensible units', () => {
    expect(formatDuration(-5)).toBe('0 s');
    expect(formatDuration(75_000)).toBe('1 min 15 s');
    expect(formatDuration(4_000_000)).toBe('1 h 6 min');
  });

  it('turns proto enum names into labels', () => {
    expect(enumLabel('AGENT_PRESENCE_AVAILABLE', 'AGENT_PRESENCE_')).toBe('Available');
    expect(enumLabel('SEND_STATE_OUTCOME_UNKNOWN', 'SEND_STATE_')).toBe('Outcome unknown');
  });
});
