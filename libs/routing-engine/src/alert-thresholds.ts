import type { Queue } from '@mailroute/contracts';
import { durationToMillis } from './validation';

/**
 * Alert thresholds with hysteresis, shared by every threshold alert (a queue's waiting count and
 * longest wait, a mailbox's time since its last sync): a condition fires when the value reaches the
 * threshold and resolves only once it is back at or below `alertClearFraction` of it, so a value
 * hovering at the threshold raises one alert, not one per sweep.
 */
const alertClearFraction = 0.8;

/** Whether an alert condition holds. */
export type ThresholdPhase = 'firing' | 'resolved';

/**
 * The phase a threshold alert moves to from `current` for `value` (same unit as `threshold`), or
 * undefined when it stays. A threshold of 0 (or less) is off: a firing alert resolves, none fires.
 */
export function nextThresholdPhase(current: ThresholdPhase, value: number, threshold: number): ThresholdPhase | undefined {
  if (threshold <= 0) return current === 'firing' ? 'resolved' : undefined;
  if (current === 'resolved') return value >= threshold ? 'firing' : undefined;
  return value <= threshold * alertClearFraction ? 'resolved' : undefined;
}

/** A queue's alert thresholds (QueueAlertThresholds) in AlertEvent units; 0 = off. */
export function queueAlertThresholds(queue: Pick<Queue, 'alertThresholds'> | undefined): {
  waitingCount: number;
  longestWaitSeconds: number;
} {
  const thresholds = queue?.alertThresholds;
  return {
    waitingCount: thresholds?.waitingCount ?? 0,
    longestWaitSeconds: thresholds?.longestWait ? durationToMillis(thresholds.longestWait) / 1000 : 0,
  };
}
