import { InteractionState, StateChangeReason } from '@mailroute/contracts';
import fc from 'fast-check';
import { IllegalTransitionError } from './errors';
import {
  interactionEventTypes,
  receivedInteraction,
  transition,
  transitionOrThrow,
  type InteractionEvent,
  type InteractionEventType,
  type InteractionSnapshot,
} from './interaction-state';

const S = InteractionState;
const T = Date.UTC(2026, 10, 22, 9, 0);
const minute = 60_000;
const supervisor = { kind: 'supervisor', id: 'sup-1' } as const;

type StateName = 'RECEIVED' | 'UNROUTED' | 'QUEUED' | 'OFFERED' | 'ASSIGNED' | 'REPLIED' | 'COMPLETED' | 'DISCARDED' | 'MERGED';
const stateOf: Record<StateName, InteractionState> = {
  RECEIVED: S.INTERACTION_STATE_RECEIVED,
  UNROUTED: S.INTERACTION_STATE_UNROUTED,
  QUEUED: S.INTERACTION_STATE_QUEUED,
  OFFERED: S.INTERACTION_STATE_OFFERED,
  ASSIGNED: S.INTERACTION_STATE_ASSIGNED,
  REPLIED: S.INTERACTION_STATE_REPLIED,
  COMPLETED: S.INTERACTION_STATE_COMPLETED,
  DISCARDED: S.INTERACTION_STATE_DISCARDED,
  MERGED: S.INTERACTION_STATE_MERGED,
};
const names = Object.keys(stateOf) as StateName[];

/** A representative snapshot per state: queue "billing", offered to / held by "ana". */
function snapshotIn(name: StateName): InteractionSnapshot {
  const base = { ...receivedInteraction(T - 10 * minute), state: stateOf[name] };
  const queued = { ...base, queueId: 'billing', queuedAt: T - 5 * minute, enteredQueueAt: T - 5 * minute };
  switch (name) {
    case 'RECEIVED':
    case 'UNROUTED':
    case 'DISCARDED':
    case 'MERGED':
      return base;
    case 'QUEUED':
      return queued;
    case 'OFFERED':
      return { ...queued, offeredAgentId: 'ana', offerExpiresAt: T + minute };
    case 'ASSIGNED':
    case 'REPLIED':
    case 'COMPLETED':
      return { ...queued, agentId: 'ana', assignedAt: T - minute };
  }
}

/** A well-formed event of each type, by the right actor, before the offer expires (timeouts after). */
const sampleEvent: Record<InteractionEventType, InteractionEvent> = {
  route: { type: 'route', at: T, queueId: 'billing', priority: 100, requiredSkills: [] },
  'no-route': { type: 'no-route', at: T },
  discard: { type: 'discard', at: T, reason: 'auto-reply' },
  merge: { type: 'merge', at: T, intoInteractionId: 'i-open' },
  offer: { type: 'offer', at: T, agentId: 'bo', expiresAt: T + minute },
  accept: { type: 'accept', at: T, agentId: 'ana' },
  decline: { type: 'decline', at: T, agentId: 'ana' },
  'offer-timeout': { type: 'offer-timeout', at: T + minute },
  'revoke-offer': { type: 'revoke-offer', at: T },
  overflow: { type: 'overflow', at: T, queueId: 'tier-2', resetWaitTime: false, requiredSkills: [] },
  'relax-skills': { type: 'relax-skills', at: T, requiredSkills: [], escalationStepsApplied: 1 },
  'transfer-to-queue': { type: 'transfer-to-queue', at: T, queueId: 'tier-2', by: supervisor },
  'transfer-to-agent': { type: 'transfer-to-agent', at: T, agentId: 'cy', expiresAt: T + minute, by: supervisor },
  assign: { type: 'assign', at: T, agentId: 'cy', by: supervisor },
  reply: { type: 'reply', at: T, agentId: 'ana' },
  'customer-reply': { type: 'customer-reply', at: T },
  complete: { type: 'complete', at: T, by: supervisor },
};

const open: StateName[] = ['RECEIVED', 'UNROUTED', 'QUEUED', 'OFFERED', 'ASSIGNED', 'REPLIED'];
const operable: StateName[] = ['UNROUTED', 'QUEUED', 'OFFERED', 'ASSIGNED', 'REPLIED'];
const to = (states: StateName[], target: StateName): Partial<Record<StateName, StateName>> =>
  Object.fromEntries(states.map((state) => [state, target]));

/** The legal transitions of interaction.proto; every other (state, event) pair must be refused. */
const legal: Record<InteractionEventType, Partial<Record<StateName, StateName>>> = {
  route: { RECEIVED: 'QUEUED' },
  'no-route': { RECEIVED: 'UNROUTED' },
  discard: { RECEIVED: 'DISCARDED' },
  merge: { RECEIVED: 'MERGED' },
  offer: { QUEUED: 'OFFERED' },
  accept: { OFFERED: 'ASSIGNED' },
  decline: { OFFERED: 'QUEUED' },
  'offer-timeout': { OFFERED: 'QUEUED' },
  'revoke-offer': { OFFERED: 'QUEUED' },
  overflow: { QUEUED: 'QUEUED' },
  'relax-skills': { QUEUED: 'QUEUED' },
  'transfer-to-queue': to(operable, 'QUEUED'),
  'transfer-to-agent': to(operable, 'OFFERED'),
  assign: to(operable, 'ASSIGNED'),
  reply: { ASSIGNED: 'REPLIED', REPLIED: 'REPLIED' },
  'customer-reply': {
    RECEIVED: 'RECEIVED',
    UNROUTED: 'UNROUTED',
    QUEUED: 'QUEUED',
    OFFERED: 'OFFERED',
    ASSIGNED: 'ASSIGNED',
    REPLIED: 'ASSIGNED',
  },
  complete: to(open, 'COMPLETED'),
};

describe('interaction state machine', () => {
  const table = names.flatMap((from) =>
    interactionEventTypes.map((type) => [from, type, legal[type][from] ?? 'refused'] as const),
  );

  it('has a table row for every state and event type', () => {
    expect(table).toHaveLength(names.length * interactionEventTypes.length);
  });

  it.each(table)('%s + %s → %s', (from, type, expected) => {
    const result = transition(snapshotIn(from), sampleEvent[type]);
    if (expected === 'refused') {
      expect(result).toMatchObject({ ok: false, reason: 'invalid-transition' });
      if (!result.ok) expect(result.message).toContain(type);
    } else {
      expect(result.ok).toBe(true);
      if (result.ok) {
        expect(result.next.state).toBe(stateOf[expected]);
        expect(result.change).toMatchObject({ previousState: stateOf[from], state: stateOf[expected] });
      }
    }
  });

  it.each([
    ['QUEUED', 'QUEUED'],
    ['OFFERED', 'OFFERED'],
    ['UNROUTED', 'UNROUTED'],
    ['ASSIGNED', 'REPLIED'],
    ['REPLIED', 'REPLIED'],
  ] as const)("counts a supervisor's reply on %s: → %s", (from, expected) => {
    const result = transition(snapshotIn(from), { type: 'reply', at: T, agentId: '', by: supervisor });
    expect(result.ok && result.next.state).toBe(stateOf[expected]);
    expect(result.ok && result.change.actor).toEqual(supervisor);
  });

  it.each(['RECEIVED', 'COMPLETED', 'MERGED', 'DISCARDED'] as const)("refuses a supervisor's reply on %s", (from) => {
    expect(transition(snapshotIn(from), { type: 'reply', at: T, agentId: '', by: supervisor }).ok).toBe(false);
  });

  it('goes received → queued → offered → assigned → replied → completed for the agent who accepted', () => {
    let snapshot = receivedInteraction(T);
    const events: InteractionEvent[] = [
      { type: 'route', at: T, queueId: 'billing', priority: 300, requiredSkills: [{ skill: 'german', minLevel: 3 }] },
      { type: 'offer', at: T + 1, agentId: 'ana', expiresAt: T + minute },
      { type: 'accept', at: T + 2, agentId: 'ana' },
      { type: 'reply', at: T + 3, agentId: 'ana' },
      { type: 'complete', at: T + 4, by: { kind: 'agent', agentId: 'ana' } },
    ];
    const reasons = events.map((event) => {
      const { next, change } = transitionOrThrow(snapshot, event);
      snapshot = next;
      return change.reason;
    });
    expect(reasons).toEqual([
      StateChangeReason.STATE_CHANGE_REASON_ROUTED,
      StateChangeReason.STATE_CHANGE_REASON_OFFERED,
      StateChangeReason.STATE_CHANGE_REASON_OFFER_ACCEPTED,
      StateChangeReason.STATE_CHANGE_REASON_REPLIED,
      StateChangeReason.STATE_CHANGE_REASON_COMPLETED,
    ]);
    expect(snapshot).toMatchObject({
      state: S.INTERACTION_STATE_COMPLETED,
      agentId: 'ana',
      queueId: 'billing',
      queuedAt: T,
      closedAt: T + 4,
      version: 6,
    });
  });

  it('requeues on decline or timeout and remembers who passed, but not after a revocation', () => {
    const afterDecline = transitionOrThrow(snapshotIn('OFFERED'), { type: 'decline', at: T, agentId: 'ana' }).next;
    const reoffered = transitionOrThrow(afterDecline, { type: 'offer', at: T, agentId: 'bo', expiresAt: T + minute }).next;
    const afterTimeout = transitionOrThrow(reoffered, { type: 'offer-timeout', at: T + minute }).next;
    expect(afterTimeout).toMatchObject({
      state: S.INTERACTION_STATE_QUEUED,
      offeredAgentId: undefined,
      declinedBy: ['ana', 'bo'],
    });
    const revoked = transitionOrThrow(snapshotIn('OFFERED'), { type: 'revoke-offer', at: T }).next;
    expect(revoked.declinedBy).toEqual([]);
  });

  it('refuses to offer an interaction again to an agent who declined it', () => {
    const declined = transitionOrThrow(snapshotIn('OFFERED'), { type: 'decline', at: T, agentId: 'ana' }).next;
    expect(transition(declined, { type: 'offer', at: T, agentId: 'ana', expiresAt: T + minute })).toMatchObject({
      ok: false,
      reason: 'invalid-event',
    });
  });

  it('offers to an agent who passed when the plan set the passes aside, and clears them', () => {
    const declined = transitionOrThrow(snapshotIn('OFFERED'), { type: 'decline', at: T, agentId: 'ana' }).next;
    const again = transitionOrThrow(declined, {
      type: 'offer',
      at: T,
      agentId: 'ana',
      expiresAt: T + minute,
      forgetPasses: true,
    });
    expect(again.next).toMatchObject({ state: S.INTERACTION_STATE_OFFERED, offeredAgentId: 'ana', declinedBy: [] });
  });

  it('refuses an accept by another agent, an accept at or after expiry, and a timeout before expiry', () => {
    const offered = snapshotIn('OFFERED');
    expect(transition(offered, { type: 'accept', at: T, agentId: 'bo' })).toMatchObject({ ok: false, reason: 'not-the-agent' });
    expect(transition(offered, { type: 'accept', at: T + minute, agentId: 'ana' })).toMatchObject({
      ok: false,
      reason: 'offer-expired',
    });
    expect(transition(offered, { type: 'offer-timeout', at: T + minute - 1 })).toMatchObject({
      ok: false,
      reason: 'offer-not-expired',
    });
    expect(transition(offered, { type: 'decline', at: T, agentId: 'bo' })).toMatchObject({ ok: false, reason: 'not-the-agent' });
  });

  it('lets an agent reply to, complete and transfer only what that agent holds', () => {
    const assigned = snapshotIn('ASSIGNED');
    const bo = { kind: 'agent', agentId: 'bo' } as const;
    expect(transition(assigned, { type: 'reply', at: T, agentId: 'bo' })).toMatchObject({ ok: false, reason: 'not-the-agent' });
    expect(transition(assigned, { type: 'complete', at: T, by: bo })).toMatchObject({ ok: false, reason: 'not-the-agent' });
    expect(transition(assigned, { type: 'transfer-to-queue', at: T, queueId: 'x', by: bo })).toMatchObject({
      ok: false,
      reason: 'not-the-agent',
    });
    expect(transition(snapshotIn('QUEUED'), { type: 'complete', at: T, by: { kind: 'agent', agentId: 'ana' } })).toMatchObject({
      ok: false,
      reason: 'invalid-transition',
    });
    expect(transition(assigned, { type: 'assign', at: T, agentId: 'cy', by: { kind: 'agent', agentId: 'ana' } })).toMatchObject({
      ok: false,
      reason: 'invalid-event',
    });
  });

  it('transfers to a queue keeping the waiting time, with a clean slate of declines and escalation steps', () => {
    const queued = { ...snapshotIn('QUEUED'), declinedBy: ['bo'], escalationStepsApplied: 2 };
    const { next, change } = transitionOrThrow(queued, { type: 'transfer-to-queue', at: T, queueId: 'tier-2', by: supervisor });
    expect(next).toMatchObject({
      queueId: 'tier-2',
      queuedAt: queued.queuedAt,
      enteredQueueAt: T,
      declinedBy: [],
      escalationStepsApplied: 0,
    });
    expect(change.reason).toBe(StateChangeReason.STATE_CHANGE_REASON_TRANSFERRED_TO_QUEUE);
  });

  it('returns a declined transfer-to-agent offer of an unrouted interaction to UNROUTED', () => {
    const offered = transitionOrThrow(snapshotIn('UNROUTED'), {
      type: 'transfer-to-agent',
      at: T,
      agentId: 'cy',
      expiresAt: T + minute,
      by: supervisor,
    }).next;
    expect(transitionOrThrow(offered, { type: 'decline', at: T, agentId: 'cy' }).next.state).toBe(S.INTERACTION_STATE_UNROUTED);
  });

  it('overflows keeping or resetting the waiting time and records the reason', () => {
    const queued = snapshotIn('QUEUED');
    const kept = transitionOrThrow(queued, {
      type: 'overflow',
      at: T,
      queueId: 'tier-2',
      resetWaitTime: false,
      requiredSkills: [],
    });
    const reset = transitionOrThrow(queued, {
      type: 'overflow',
      at: T,
      queueId: 'tier-2',
      resetWaitTime: true,
      requiredSkills: [],
    });
    expect(kept.next.queuedAt).toBe(queued.queuedAt);
    expect(reset.next.queuedAt).toBe(T);
    expect(kept.change.reason).toBe(StateChangeReason.STATE_CHANGE_REASON_OVERFLOWED);
    expect(
      transition(queued, { type: 'overflow', at: T, queueId: 'billing', resetWaitTime: false, requiredSkills: [] }),
    ).toMatchObject({ ok: false });
  });

  it('marks an offer to the conversation’s previous agent as OFFERED_BY_AFFINITY', () => {
    const { change } = transitionOrThrow(snapshotIn('QUEUED'), {
      type: 'offer',
      at: T,
      agentId: 'ana',
      expiresAt: T + minute,
      byAffinity: true,
    });
    expect(change.reason).toBe(StateChangeReason.STATE_CHANGE_REASON_OFFERED_BY_AFFINITY);
  });

  it('throws IllegalTransitionError (FAILED_PRECONDITION) from transitionOrThrow', () => {
    expect(() => transitionOrThrow(snapshotIn('COMPLETED'), sampleEvent.reply)).toThrow(IllegalTransitionError);
    try {
      transitionOrThrow(snapshotIn('COMPLETED'), sampleEvent.reply);
    } catch (error) {
      expect(error).toMatchObject({ code: 'failed-precondition', reason: 'invalid-transition', retryable: false });
    }
  });

  it('keeps its invariants along any sequence of events (offer fields only while OFFERED, owner while held, version counts changes)', () => {
    const event = fc.oneof(
      fc.constantFrom(...Object.values(sampleEvent)),
      fc.record({
        type: fc.constant('accept' as const),
        at: fc.integer({ min: T, max: T + 2 * minute }),
        agentId: fc.constantFrom('ana', 'bo', 'cy'),
      }),
      fc.record({ type: fc.constant('decline' as const), at: fc.constant(T), agentId: fc.constantFrom('ana', 'bo', 'cy') }),
      fc.record({
        type: fc.constant('complete' as const),
        at: fc.constant(T),
        by: fc.constantFrom({ kind: 'agent', agentId: 'ana' } as const, { kind: 'agent', agentId: 'cy' } as const, supervisor),
      }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        let snapshot = receivedInteraction(T - minute);
        for (const next of events) {
          const result = transition(snapshot, next);
          if (!result.ok) {
            expect(result.message.length).toBeGreaterThan(0);
            continue;
          }
          expect(result.next.version).toBe(snapshot.version + 1);
          snapshot = result.next;
          const offered = snapshot.state === S.INTERACTION_STATE_OFFERED;
          expect(snapshot.offeredAgentId !== undefined).toBe(offered);
          expect(snapshot.offerExpiresAt !== undefined).toBe(offered);
          if (snapshot.state === S.INTERACTION_STATE_ASSIGNED || snapshot.state === S.INTERACTION_STATE_REPLIED) {
            expect(snapshot.agentId).toBeDefined();
          }
          if (snapshot.state === S.INTERACTION_STATE_QUEUED) expect(snapshot.queueId).toBeDefined();
        }
      }),
      { numRuns: 300 },
    );
  });
});
