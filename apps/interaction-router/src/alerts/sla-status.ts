import { SlaState } from '@mailroute/contracts';
import type { InteractionRecord } from '@mailroute/persistence';
import { createQueuePolicy, slaDueSoonMs, slaState, type QueuePolicy } from '@mailroute/routing-engine';

const toProto = {
  'on-track': SlaState.SLA_STATE_ON_TRACK,
  'due-soon': SlaState.SLA_STATE_DUE_SOON,
  breached: SlaState.SLA_STATE_BREACHED,
  met: SlaState.SLA_STATE_MET,
  missed: SlaState.SLA_STATE_MISSED,
} as const;

/** The queue defaults (due soon 1h before a 4h threshold) for an interaction whose queue is gone. */
const defaultPolicy = createQueuePolicy('');

/**
 * Where an interaction stands against its first-response due time at `now`: met / missed once the
 * first reply is sent, otherwise on track / due soon (within its queue's due-soon window) /
 * breached. No clock (UNSPECIFIED) without a due time, or once closed without a reply.
 */
export function interactionSlaState(
  record: Pick<InteractionRecord, 'serviceLevelDueAt' | 'firstRepliedAt' | 'closedAt' | 'queueId'>,
  policies: ReadonlyMap<string, { policy: QueuePolicy }>,
  now: number,
): SlaState {
  if (record.serviceLevelDueAt === undefined) return SlaState.SLA_STATE_UNSPECIFIED;
  if (record.firstRepliedAt === undefined && record.closedAt !== undefined) return SlaState.SLA_STATE_UNSPECIFIED;
  const policy = (record.queueId ? policies.get(record.queueId)?.policy : undefined) ?? defaultPolicy;
  const state = slaState({
    dueAt: record.serviceLevelDueAt,
    now,
    dueSoonMs: slaDueSoonMs(policy),
    firstRespondedAt: record.firstRepliedAt,
  });
  return toProto[state];
}

const searchable = new Set<number>(Object.values(toProto));

/** The SLA states a search may ask for: every proto value but UNSPECIFIED. */
export function isSearchableSlaState(value: number): boolean {
  return searchable.has(value);
}
