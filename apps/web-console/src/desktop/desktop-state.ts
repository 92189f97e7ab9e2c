// The agent desktop's state, built only from the Connect stream's events: a Snapshot replaces
// everything (so a reconnect shows exactly the work the server says the agent has, and an offer
// accepted before the drop shows as assigned work, never as an offer to accept again); later events
// change it piece by piece. Pure: no I/O, time passed in.
import type { AssignmentEndReason } from '@mailroute/contracts';
import {
  SendState,
  type AgentStatus,
  type ConnectResponse,
  type Interaction,
  type Offer,
  type SendFailure,
} from '@mailroute/contracts';

/** The progress of one reply the agent sent, as the stream last reported it. */
export interface SendProgress {
  sendId: string;
  idempotencyKey: string;
  interactionId: string;
  state: SendState;
  failure?: SendFailure | undefined;
}

/** Why an interaction left the agent's list, shown briefly. */
export interface EndedNotice {
  interactionId: string;
  subject: string;
  reason: AssignmentEndReason;
  by: string;
}

export interface DesktopState {
  /** Whether a Snapshot has arrived on the current stream. */
  synced: boolean;
  status: AgentStatus | undefined;
  /** Pending offers by offer id. */
  offers: Record<string, Offer>;
  /** Interactions the agent holds, by interaction id. */
  assigned: Record<string, Interaction>;
  /** Replies' progress by idempotency key. */
  sends: Record<string, SendProgress>;
  /** Interactions taken away or finished while the agent looked elsewhere. */
  ended: EndedNotice[];
  /** Server clock minus browser clock, from the last event's sent_at (offer countdowns use it). */
  clockSkewMs: number;
  /** Sequence of the last event applied on the current stream. */
  lastSequence: number;
}

export const initialDesktopState: DesktopState = {
  synced: false,
  status: undefined,
  offers: {},
  assigned: {},
  sends: {},
  ended: [],
  clockSkewMs: 0,
  lastSequence: 0,
};

const MAX_ENDED_NOTICES = 5;

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const copy = { ...record };
  delete copy[key];
  return copy;
}

function byInteraction(offers: Record<string, Offer>, interactionId: string): Record<string, Offer> {
  return Object.fromEntries(Object.entries(offers).filter(([, offer]) => offer.interaction?.interactionId !== interactionId));
}

/** Applies one stream event. `receivedAt` is the browser's clock when it arrived. */
export function applyDesktopEvent(state: DesktopState, message: ConnectResponse, receivedAt: number): DesktopState {
  const clockSkewMs = message.sentAt ? message.sentAt.getTime() - receivedAt : state.clockSkewMs;
  const next = { ...state, clockSkewMs, lastSequence: message.sequence };
  const event = message.event;
  switch (event?.$case) {
    case 'snapshot': {
      const offers = Object.fromEntries(event.value.pendingOffers.map((offer) => [offer.offerId, offer]));
      const assigned = Object.fromEntries(event.value.assigned.map((interaction) => [interaction.interactionId, interaction]));
      return { ...next, synced: true, status: event.value.status, offers, assigned };
    }
    case 'offer':
      return { ...next, offers: { ...state.offers, [event.value.offerId]: event.value } };
    case 'offerRevoked':
      return { ...next, offers: without(state.offers, event.value.offerId) };
    case 'assignment': {
      const interaction = event.value.interaction;
      if (!interaction) return next;
      return {
        ...next,
        offers: byInteraction(state.offers, interaction.interactionId),
        assigned: { ...state.assigned, [interaction.interactionId]: interaction },
      };
    }
    case 'assignmentEnded': {
      const ended = state.assigned[event.value.interactionId];
      const notice: EndedNotice = {
        interactionId: event.value.interactionId,
        subject: ended?.subject ?? '',
        reason: event.value.reason,
        by: event.value.endedBy?.displayName ?? '',
      };
      return {
        ...next,
        assigned: without(state.assigned, event.value.interactionId),
        ended: [notice, ...state.ended].slice(0, MAX_ENDED_NOTICES),
      };
    }
    case 'interactionUpdated': {
      const interaction = event.value.interaction;
      if (!interaction || !(interaction.interactionId in state.assigned)) return next;
      return { ...next, assigned: { ...state.assigned, [interaction.interactionId]: interaction } };
    }
    case 'sendResult': {
      const result = event.value;
      const progress: SendProgress = {
        sendId: result.sendId,
        idempotencyKey: result.idempotencyKey,
        interactionId: result.interactionId,
        state: result.state,
        failure: result.failure,
      };
      return { ...next, sends: { ...state.sends, [result.idempotencyKey]: progress } };
    }
    case 'presenceChanged':
      return { ...next, status: event.value.status };
    default:
      // Heartbeat, Draining, SessionReplaced (handled by the connection), and cases newer servers add.
      return next;
  }
}

/** Records a reply just accepted by Reply, before its first SendResult arrives. */
export function recordSend(state: DesktopState, progress: SendProgress): DesktopState {
  const known = state.sends[progress.idempotencyKey];
  // A SendResult may overtake the Reply response; never move a send back to ACCEPTED.
  if (known && known.state !== SendState.SEND_STATE_UNSPECIFIED) return state;
  return { ...state, sends: { ...state.sends, [progress.idempotencyKey]: progress } };
}

/** Milliseconds left on an offer by the server's clock, never negative. */
export function offerTimeLeftMs(offer: Offer, state: Pick<DesktopState, 'clockSkewMs'>, now: number): number {
  if (!offer.expiresAt) return 0;
  return Math.max(0, offer.expiresAt.getTime() - (now + state.clockSkewMs));
}
