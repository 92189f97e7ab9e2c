import { InteractionState, StateChangeReason, interactionStateToJSON, type SkillRequirement } from '@mailroute/contracts';
import { IllegalTransitionError, type TransitionRejectionReason } from './errors';
import type { EpochMillis } from './model';

/**
 * The lifecycle of an interaction, as in interaction.proto. Pure: no I/O, no clock — events
 * carry their time.
 *
 *   RECEIVED  → QUEUED (route) | UNROUTED (no-route) | DISCARDED (discard) | MERGED (merge)
 *   UNROUTED  → QUEUED | OFFERED | ASSIGNED            (operator: transfer or assign)
 *   QUEUED    → OFFERED (offer) | ASSIGNED (assign) | QUEUED (overflow, relax-skills, transfer)
 *   OFFERED   → ASSIGNED (accept, assign) | QUEUED (decline, offer-timeout, revoke-offer, transfer)
 *               | OFFERED (transfer-to-agent)
 *   ASSIGNED  → REPLIED | COMPLETED | QUEUED | OFFERED | ASSIGNED (reassign) | ASSIGNED (customer-reply)
 *   REPLIED   → REPLIED | ASSIGNED (customer-reply, reassign) | COMPLETED | QUEUED | OFFERED
 *   any non-final state → COMPLETED (a supervisor completes it)
 *
 * COMPLETED, DISCARDED and MERGED are final.
 */
const finalInteractionStates: ReadonlySet<InteractionState> = new Set([
  InteractionState.INTERACTION_STATE_COMPLETED,
  InteractionState.INTERACTION_STATE_DISCARDED,
  InteractionState.INTERACTION_STATE_MERGED,
]);

/** Who acts on an interaction. Agent actions are checked against the interaction's agent. */
export type TransitionActor =
  { kind: 'system' } | { kind: 'customer' } | { kind: 'agent'; agentId: string } | { kind: 'supervisor'; id: string };

export type InteractionEvent =
  /** Rules (or the default queue) put it in a queue. */
  | { type: 'route'; at: EpochMillis; queueId: string; priority: number; requiredSkills: readonly SkillRequirement[] }
  /** No rule matched and no default queue. */
  | { type: 'no-route'; at: EpochMillis }
  /** A rule closed it without an agent (e.g. an auto-reply). */
  | { type: 'discard'; at: EpochMillis; reason?: string | undefined }
  /** Its message joined another open interaction of the conversation. */
  | { type: 'merge'; at: EpochMillis; intoInteractionId: string }
  /** The queue's strategy (or affinity) offers it. */
  | {
      type: 'offer';
      at: EpochMillis;
      agentId: string;
      expiresAt: EpochMillis;
      byAffinity?: boolean | undefined;
      /** Every open eligible agent had passed (PlannedOffer.passesForgotten): offer anyway and clear the passes. */
      forgetPasses?: boolean | undefined;
    }
  | { type: 'accept'; at: EpochMillis; agentId: string }
  | { type: 'decline'; at: EpochMillis; agentId: string }
  /** The offer lapsed; refused before its expiry. */
  | { type: 'offer-timeout'; at: EpochMillis }
  /** The offered agent went away/offline or lost capacity, or a supervisor acted. */
  | { type: 'revoke-offer'; at: EpochMillis }
  /** An escalation step moved it to another queue. */
  | { type: 'overflow'; at: EpochMillis; queueId: string; resetWaitTime: boolean; requiredSkills: readonly SkillRequirement[] }
  /** An escalation step relaxed its skills. */
  | { type: 'relax-skills'; at: EpochMillis; requiredSkills: readonly SkillRequirement[]; escalationStepsApplied: number }
  | { type: 'transfer-to-queue'; at: EpochMillis; queueId: string; by: TransitionActor }
  | { type: 'transfer-to-agent'; at: EpochMillis; agentId: string; expiresAt: EpochMillis; by: TransitionActor }
  /** A supervisor assigns it (capacity is the caller's check: `checkDirectOffer`). */
  | { type: 'assign'; at: EpochMillis; agentId: string; by: TransitionActor }
  /**
   * A reply was sent: by the owning agent (no `by`, or an agent), or by a supervisor / the
   * workload-manager API (`by` a supervisor; `agentId` unused), which counts on any open routed
   * interaction — REPLIED when an agent holds it, its state unchanged otherwise.
   */
  | { type: 'reply'; at: EpochMillis; agentId: string; by?: TransitionActor | undefined }
  /** The customer wrote again in the conversation. */
  | { type: 'customer-reply'; at: EpochMillis }
  | { type: 'complete'; at: EpochMillis; by: TransitionActor };

export type InteractionEventType = InteractionEvent['type'];

export const interactionEventTypes: readonly InteractionEventType[] = [
  'route',
  'no-route',
  'discard',
  'merge',
  'offer',
  'accept',
  'decline',
  'offer-timeout',
  'revoke-offer',
  'overflow',
  'relax-skills',
  'transfer-to-queue',
  'transfer-to-agent',
  'assign',
  'reply',
  'customer-reply',
  'complete',
];

/** The routing-relevant part of an interaction (the service's document holds more). */
export interface InteractionSnapshot {
  state: InteractionState;
  /** Current queue (QUEUED, OFFERED) or the last one; undefined if never queued. */
  queueId?: string | undefined;
  /** Owner in ASSIGNED and REPLIED; last owner in COMPLETED. */
  agentId?: string | undefined;
  /** Agent holding the offer (OFFERED only). */
  offeredAgentId?: string | undefined;
  offerExpiresAt?: EpochMillis | undefined;
  priority: number;
  requiredSkills: readonly SkillRequirement[];
  /** Agents that declined or let an offer lapse since it entered its queue. */
  declinedBy: readonly string[];
  /** Waiting time, aging and service level count from here. */
  queuedAt?: EpochMillis | undefined;
  /** Escalation steps count from here. */
  enteredQueueAt?: EpochMillis | undefined;
  escalationStepsApplied: number;
  assignedAt?: EpochMillis | undefined;
  closedAt?: EpochMillis | undefined;
  mergedIntoInteractionId?: string | undefined;
  updatedAt: EpochMillis;
  /** Incremented by every change (Interaction.version). */
  version: number;
}

/** A RECEIVED interaction's snapshot. */
export function receivedInteraction(at: EpochMillis): InteractionSnapshot {
  return {
    state: InteractionState.INTERACTION_STATE_RECEIVED,
    priority: 0,
    requiredSkills: [],
    declinedBy: [],
    escalationStepsApplied: 0,
    updatedAt: at,
    version: 1,
  };
}

/** One accepted change, ready for an InteractionStateChanged event and a history entry. */
export interface InteractionChange {
  previousState: InteractionState;
  state: InteractionState;
  reason: StateChangeReason;
  actor: TransitionActor;
  /** The agent concerned (offered, assigned, declining or completing); undefined if none. */
  agentId?: string | undefined;
}

export interface TransitionRejection {
  ok: false;
  reason: TransitionRejectionReason;
  message: string;
}

export type TransitionResult = { ok: true; next: InteractionSnapshot; change: InteractionChange } | TransitionRejection;

const S = InteractionState;
const R = StateChangeReason;

const stateName = (state: InteractionState): string => interactionStateToJSON(state).replace('INTERACTION_STATE_', '');

/**
 * Applies one event. Never throws: a refused event is a rejection with a stable reason
 * (`invalid-transition`, `not-the-agent`, `offer-expired`, `offer-not-expired`, `invalid-event`)
 * that the service reports as FAILED_PRECONDITION (see `transitionOrThrow`).
 */
export function transition(current: InteractionSnapshot, event: InteractionEvent): TransitionResult {
  const from = current.state;
  const reject = (reason: TransitionRejectionReason, message: string): TransitionRejection => ({ ok: false, reason, message });
  const invalid = (): TransitionRejection =>
    reject('invalid-transition', `cannot ${event.type} an interaction that is ${stateName(from)}`);
  const isIn = (...states: InteractionState[]): boolean => states.includes(from);
  const done = (
    next: Partial<InteractionSnapshot>,
    reason: StateChangeReason,
    actor: TransitionActor,
    agentId?: string,
  ): TransitionResult => {
    const snapshot: InteractionSnapshot = { ...current, ...next, updatedAt: event.at, version: current.version + 1 };
    return { ok: true, next: snapshot, change: { previousState: from, state: snapshot.state, reason, actor, agentId } };
  };
  const system: TransitionActor = { kind: 'system' };
  const clearedOffer = { offeredAgentId: undefined, offerExpiresAt: undefined };
  /** Back to the queue it came from (UNROUTED when it never had one), remembering who passed. */
  const requeue = (passedBy: string | undefined): Partial<InteractionSnapshot> => ({
    ...clearedOffer,
    state: current.queueId === undefined ? S.INTERACTION_STATE_UNROUTED : S.INTERACTION_STATE_QUEUED,
    declinedBy: passedBy && !current.declinedBy.includes(passedBy) ? [...current.declinedBy, passedBy] : current.declinedBy,
  });
  const enterQueue = (queueId: string, keepWait: boolean): Partial<InteractionSnapshot> => ({
    ...clearedOffer,
    state: S.INTERACTION_STATE_QUEUED,
    queueId,
    agentId: undefined,
    declinedBy: [],
    queuedAt: keepWait && current.queuedAt !== undefined ? current.queuedAt : event.at,
    enteredQueueAt: event.at,
    escalationStepsApplied: 0,
  });
  const heldByAgent = isIn(S.INTERACTION_STATE_ASSIGNED, S.INTERACTION_STATE_REPLIED);
  /** Agents act only on what they hold; supervisors on any open interaction. */
  const actorMayAct = (by: TransitionActor): TransitionRejection | undefined => {
    if (by.kind === 'agent') {
      if (!heldByAgent) return invalid();
      if (current.agentId !== by.agentId) return reject('not-the-agent', 'the interaction is held by another agent');
      return undefined;
    }
    if (by.kind !== 'supervisor') return reject('invalid-event', `${event.type} is done by an agent or a supervisor`);
    return undefined;
  };

  switch (event.type) {
    case 'route':
      if (!isIn(S.INTERACTION_STATE_RECEIVED)) return invalid();
      return done(
        { ...enterQueue(event.queueId, false), priority: event.priority, requiredSkills: event.requiredSkills },
        R.STATE_CHANGE_REASON_ROUTED,
        system,
      );
    case 'no-route':
      if (!isIn(S.INTERACTION_STATE_RECEIVED)) return invalid();
      return done({ state: S.INTERACTION_STATE_UNROUTED }, R.STATE_CHANGE_REASON_NO_ROUTE, system);
    case 'discard':
      if (!isIn(S.INTERACTION_STATE_RECEIVED)) return invalid();
      return done({ state: S.INTERACTION_STATE_DISCARDED, closedAt: event.at }, R.STATE_CHANGE_REASON_DISCARDED_BY_RULE, system);
    case 'merge':
      if (!isIn(S.INTERACTION_STATE_RECEIVED)) return invalid();
      return done(
        { state: S.INTERACTION_STATE_MERGED, mergedIntoInteractionId: event.intoInteractionId, closedAt: event.at },
        R.STATE_CHANGE_REASON_MERGED,
        system,
      );
    case 'offer':
      if (!isIn(S.INTERACTION_STATE_QUEUED)) return invalid();
      if (!event.forgetPasses && current.declinedBy.includes(event.agentId))
        return reject('invalid-event', `agent ${event.agentId} already passed on this interaction`);
      if (event.expiresAt <= event.at) return reject('invalid-event', 'an offer must expire after it is made');
      return done(
        {
          state: S.INTERACTION_STATE_OFFERED,
          offeredAgentId: event.agentId,
          offerExpiresAt: event.expiresAt,
          ...(event.forgetPasses ? { declinedBy: [] } : {}),
        },
        event.byAffinity ? R.STATE_CHANGE_REASON_OFFERED_BY_AFFINITY : R.STATE_CHANGE_REASON_OFFERED,
        system,
        event.agentId,
      );
    case 'accept':
      if (!isIn(S.INTERACTION_STATE_OFFERED)) return invalid();
      if (current.offeredAgentId !== event.agentId) return reject('not-the-agent', 'the offer is for another agent');
      if (current.offerExpiresAt !== undefined && event.at >= current.offerExpiresAt)
        return reject('offer-expired', 'the offer has expired');
      return done(
        { ...clearedOffer, state: S.INTERACTION_STATE_ASSIGNED, agentId: event.agentId, assignedAt: event.at },
        R.STATE_CHANGE_REASON_OFFER_ACCEPTED,
        { kind: 'agent', agentId: event.agentId },
        event.agentId,
      );
    case 'decline':
      if (!isIn(S.INTERACTION_STATE_OFFERED)) return invalid();
      if (current.offeredAgentId !== event.agentId) return reject('not-the-agent', 'the offer is for another agent');
      return done(
        requeue(event.agentId),
        R.STATE_CHANGE_REASON_OFFER_DECLINED,
        { kind: 'agent', agentId: event.agentId },
        event.agentId,
      );
    case 'offer-timeout':
      if (!isIn(S.INTERACTION_STATE_OFFERED)) return invalid();
      if (current.offerExpiresAt !== undefined && event.at < current.offerExpiresAt)
        return reject('offer-not-expired', 'the offer has not expired yet');
      return done(requeue(current.offeredAgentId), R.STATE_CHANGE_REASON_OFFER_TIMED_OUT, system, current.offeredAgentId);
    case 'revoke-offer':
      if (!isIn(S.INTERACTION_STATE_OFFERED)) return invalid();
      // A revoked offer is not the agent's refusal: the agent may be offered it again.
      return done(requeue(undefined), R.STATE_CHANGE_REASON_OFFER_REVOKED, system, current.offeredAgentId);
    case 'overflow':
      if (!isIn(S.INTERACTION_STATE_QUEUED)) return invalid();
      if (event.queueId === current.queueId) return reject('invalid-event', 'an overflow goes to another queue');
      return done(
        {
          ...enterQueue(event.queueId, !event.resetWaitTime),
          declinedBy: current.declinedBy,
          requiredSkills: event.requiredSkills,
        },
        R.STATE_CHANGE_REASON_OVERFLOWED,
        system,
      );
    case 'relax-skills':
      if (!isIn(S.INTERACTION_STATE_QUEUED)) return invalid();
      return done(
        { requiredSkills: event.requiredSkills, escalationStepsApplied: event.escalationStepsApplied },
        R.STATE_CHANGE_REASON_SKILLS_RELAXED,
        system,
      );
    case 'transfer-to-queue': {
      if (finalInteractionStates.has(from) || from === S.INTERACTION_STATE_RECEIVED) return invalid();
      const refused = actorMayAct(event.by);
      if (refused) return refused;
      return done(enterQueue(event.queueId, true), R.STATE_CHANGE_REASON_TRANSFERRED_TO_QUEUE, event.by);
    }
    case 'transfer-to-agent': {
      if (finalInteractionStates.has(from) || from === S.INTERACTION_STATE_RECEIVED) return invalid();
      const refused = actorMayAct(event.by);
      if (refused) return refused;
      if (event.by.kind === 'agent' && event.by.agentId === event.agentId)
        return reject('invalid-event', 'an agent cannot transfer to themselves');
      if (event.expiresAt <= event.at) return reject('invalid-event', 'an offer must expire after it is made');
      // The transferring owner gives it up; a decline returns it to its queue with a clean slate.
      return done(
        {
          state: S.INTERACTION_STATE_OFFERED,
          agentId: undefined,
          offeredAgentId: event.agentId,
          offerExpiresAt: event.expiresAt,
          declinedBy: [],
        },
        R.STATE_CHANGE_REASON_TRANSFERRED_TO_AGENT,
        event.by,
        event.agentId,
      );
    }
    case 'assign':
      if (finalInteractionStates.has(from) || from === S.INTERACTION_STATE_RECEIVED) return invalid();
      if (event.by.kind !== 'supervisor') return reject('invalid-event', 'only a supervisor assigns directly');
      if (heldByAgent && current.agentId === event.agentId)
        return reject('invalid-event', `the interaction is already held by ${event.agentId}`);
      return done(
        { ...clearedOffer, state: S.INTERACTION_STATE_ASSIGNED, agentId: event.agentId, assignedAt: event.at },
        R.STATE_CHANGE_REASON_ASSIGNED_BY_SUPERVISOR,
        event.by,
        event.agentId,
      );
    case 'reply':
      if (event.by?.kind === 'supervisor') {
        if (finalInteractionStates.has(from) || from === S.INTERACTION_STATE_RECEIVED) return invalid();
        return done(
          { state: heldByAgent ? S.INTERACTION_STATE_REPLIED : from },
          R.STATE_CHANGE_REASON_REPLIED,
          event.by,
          current.agentId,
        );
      }
      if (!heldByAgent) return invalid();
      if (current.agentId !== event.agentId) return reject('not-the-agent', 'the interaction is held by another agent');
      return done(
        { state: S.INTERACTION_STATE_REPLIED },
        R.STATE_CHANGE_REASON_REPLIED,
        { kind: 'agent', agentId: event.agentId },
        event.agentId,
      );
    case 'customer-reply':
      if (finalInteractionStates.has(from)) return invalid();
      return done({ state: heldByAgent ? S.INTERACTION_STATE_ASSIGNED : from }, R.STATE_CHANGE_REASON_CUSTOMER_REPLIED, {
        kind: 'customer',
      });
    case 'complete': {
      if (finalInteractionStates.has(from)) return invalid();
      const refused = actorMayAct(event.by);
      if (refused) return refused;
      return done(
        { ...clearedOffer, state: S.INTERACTION_STATE_COMPLETED, closedAt: event.at },
        R.STATE_CHANGE_REASON_COMPLETED,
        event.by,
        current.agentId,
      );
    }
  }
}

/** `transition`, throwing IllegalTransitionError (FAILED_PRECONDITION) on a refusal. */
export function transitionOrThrow(
  current: InteractionSnapshot,
  event: InteractionEvent,
): { next: InteractionSnapshot; change: InteractionChange } {
  const result = transition(current, event);
  if (!result.ok) throw new IllegalTransitionError(result.reason, result.message);
  return result;
}
