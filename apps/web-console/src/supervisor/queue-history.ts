// The last hour per queue for the live chart. No API keeps queue statistics over time (GetQueueStatistics
// and ListQueueStatistics answer "now" over a window), so the console samples them while it is open:
// the chart starts empty when the page opens and fills as it stays open. Pure; time passed in.

/** One sample of a queue. */
export interface QueueSample {
  at: number;
  waiting: number;
  /** Service level achieved, percent; undefined when nothing was counted yet. */
  serviceLevel: number | undefined;
}

export const HISTORY_MS = 60 * 60 * 1000;

/** Adds samples (one per queue) and drops those older than an hour. */
export function addSamples(
  history: Record<string, QueueSample[]>,
  samples: Record<string, Omit<QueueSample, 'at'>>,
  at: number,
): Record<string, QueueSample[]> {
  const next: Record<string, QueueSample[]> = {};
  for (const [queueId, sample] of Object.entries(samples)) {
    next[queueId] = [...(history[queueId] ?? []).filter((s) => at - s.at <= HISTORY_MS), { at, ...sample }];
  }
  return next;
}

/** An SVG polyline's points for values over the last hour, in a width × height box (y grows down). */
export function chartPoints(
  samples: QueueSample[],
  value: (sample: QueueSample) => number | undefined,
  box: { width: number; height: number; max: number; now: number },
): string {
  return samples
    .flatMap((sample) => {
      const v = value(sample);
      if (v === undefined) return [];
      const x = ((sample.at - (box.now - HISTORY_MS)) / HISTORY_MS) * box.width;
      const y = box.height - (Math.min(v, box.max) / Math.max(box.max, 1)) * box.height;
      return [`${x.toFixed(1)},${y.toFixed(1)}`];
    })
    .join(' ');
}
