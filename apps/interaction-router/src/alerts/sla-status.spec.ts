import { SlaState } from '@mailroute/contracts';
import { createQueuePolicy } from '@mailroute/routing-engine';
import { interactionSlaState, isSearchableSlaState } from './sla-status';

const MINUTE = 60_000;
const policies = new Map([
  ['four-hours', { policy: createQueuePolicy('four-hours', { serviceLevel: { thresholdMs: 240 * MINUTE, targetPercent: 80 } }) }],
  [
    'twenty-minutes',
    { policy: createQueuePolicy('twenty-minutes', { serviceLevel: { thresholdMs: 20 * MINUTE, targetPercent: 80 } }) },
  ],
]);

describe('interactionSlaState', () => {
  const dueAt = 1_000 * MINUTE;
  const at = (queueId: string, now: number, extra: { firstRepliedAt?: number; closedAt?: number } = {}) =>
    interactionSlaState({ queueId, serviceLevelDueAt: dueAt, ...extra }, policies, now);

  it('is due soon a quarter of the threshold before the due time, at most an hour, when the queue sets no window', () => {
    expect(at('four-hours', dueAt - 60 * MINUTE - 1)).toBe(SlaState.SLA_STATE_ON_TRACK);
    expect(at('four-hours', dueAt - 60 * MINUTE)).toBe(SlaState.SLA_STATE_DUE_SOON);
    expect(at('twenty-minutes', dueAt - 5 * MINUTE - 1)).toBe(SlaState.SLA_STATE_ON_TRACK);
    expect(at('twenty-minutes', dueAt - 5 * MINUTE)).toBe(SlaState.SLA_STATE_DUE_SOON);
    // A queue that is gone: the defaults (4h threshold, so 1h).
    expect(at('deleted', dueAt - 60 * MINUTE)).toBe(SlaState.SLA_STATE_DUE_SOON);
    expect(at('four-hours', dueAt)).toBe(SlaState.SLA_STATE_DUE_SOON);
    expect(at('four-hours', dueAt + 1)).toBe(SlaState.SLA_STATE_BREACHED);
  });

  it('is met or missed by the first reply, and has no clock once closed without one or without a due time', () => {
    expect(at('four-hours', dueAt + 99 * MINUTE, { firstRepliedAt: dueAt })).toBe(SlaState.SLA_STATE_MET);
    expect(at('four-hours', dueAt + 99 * MINUTE, { firstRepliedAt: dueAt + 1, closedAt: dueAt + 2 })).toBe(
      SlaState.SLA_STATE_MISSED,
    );
    expect(at('four-hours', dueAt + 99 * MINUTE, { closedAt: dueAt - 1 })).toBe(SlaState.SLA_STATE_UNSPECIFIED);
    expect(interactionSlaState({ queueId: 'four-hours' }, policies, dueAt)).toBe(SlaState.SLA_STATE_UNSPECIFIED);
    expect(isSearchableSlaState(SlaState.SLA_STATE_UNSPECIFIED)).toBe(false);
    expect(isSearchableSlaState(SlaState.SLA_STATE_MISSED)).toBe(true);
  });
});
