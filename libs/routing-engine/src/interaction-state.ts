/**
 * The lifecycle of an interaction (one customer email thread as a unit of agent work). Pure: no
 * I/O, no clock — callers pass the time in.
 *
 *   queued ──offer──▶ offered ──accept──▶ assigned ──reply──▶ assigned … ──complete──▶ completed
 *     ▲                 │ decline/timeout/revoke        │ transfer
 *     └─────────────────┴───────────────────────────────┘
 */
export const interactionStates = ['queued', 'offered', 'assigned', 'completed'] as const;
export type InteractionState = (typeof interactionStates)[number];

export type InteractionEvent =
  | { type: 'offer'; agentId: string; at: Date; expiresAt: Date }
  | { type: 'accept'; agentId: string; at: Date }
  | { type: 'decline'; agentId: string; at: Date }
  | { type: 'offer-timeout'; at: Date }
  | { type: 'transfer'; at: Date; queueId: string }
  | { type: 'reply'; agentId: string; at: Date }
  | { type: 'complete'; agentId: string; at: Date };

export interface InteractionSnapshot {
  state: InteractionState;
  queueId: string;
  /** The agent holding the offer or the assignment. */
  agentId?: string | undefined;
  offerExpiresAt?: Date | undefined;
  /** Agents that declined or let the offer lapse, skipped by the next offer. */
  declinedBy: readonly string[];
  updatedAt: Date;
}

/** Why a transition was refused; a stable code callers map to FAILED_PRECONDITION. */
export interface TransitionRejection {
  ok: false;
  reason: 'invalid-transition' | 'not-the-agent' | 'offer-expired';
  message: string;
}

export type TransitionResult = { ok: true; next: InteractionSnapshot } | TransitionRejection;

/** Applies one event. Never throws: an impossible event is a rejection the caller reports. */
export function transition(current: InteractionSnapshot, event: InteractionEvent): TransitionResult {
  const reject = (reason: TransitionRejection['reason'], message: string): TransitionRejection => ({ ok: false, reason, message });
  const invalid = (): TransitionRejection =>
    reject('invalid-transition', `cannot ${event.type} an interaction that is ${current.state}`);
  const base = { ...current, updatedAt: event.at };

  switch (event.type) {
    case 'offer':
      if (current.state !== 'queued') return invalid();
      return { ok: true, next: { ...base, state: 'offered', agentId: event.agentId, offerExpiresAt: event.expiresAt } };
    case 'accept':
      if (current.state !== 'offered') return invalid();
      if (current.agentId !== event.agentId) return reject('not-the-agent', 'the offer is for another agent');
      if (current.offerExpiresAt && event.at > current.offerExpiresAt) return reject('offer-expired', 'the offer has expired');
      return { ok: true, next: { ...base, state: 'assigned', offerExpiresAt: undefined } };
    case 'decline':
      if (current.state !== 'offered') return invalid();
      if (current.agentId !== event.agentId) return reject('not-the-agent', 'the offer is for another agent');
      return { ok: true, next: requeue(base, event.agentId) };
    case 'offer-timeout':
      if (current.state !== 'offered') return invalid();
      return { ok: true, next: requeue(base, current.agentId) };
    case 'transfer':
      if (current.state === 'completed') return invalid();
      return { ok: true, next: { ...requeue(base, undefined), queueId: event.queueId, declinedBy: [] } };
    case 'reply':
      if (current.state !== 'assigned') return invalid();
      if (current.agentId !== event.agentId) return reject('not-the-agent', 'the interaction is assigned to another agent');
      return { ok: true, next: base };
    case 'complete':
      if (current.state !== 'assigned') return invalid();
      if (current.agentId !== event.agentId) return reject('not-the-agent', 'the interaction is assigned to another agent');
      return { ok: true, next: { ...base, state: 'completed' } };
  }
}

function requeue(snapshot: InteractionSnapshot, skippedAgent: string | undefined): InteractionSnapshot {
  return {
    ...snapshot,
    state: 'queued',
    agentId: undefined,
    offerExpiresAt: undefined,
    declinedBy: skippedAgent ? [...new Set([...snapshot.declinedBy, skippedAgent])] : snapshot.declinedBy,
  };
}
