import {
  AssignmentEndReason,
  AssignmentReason,
  InteractionState,
  OfferRevokedReason,
  ActorKind,
  SendState,
  StateChangeReason,
  type ConnectResponse,
  type OutboundResult,
  type InteractionStateChanged,
} from '@mailroute/contracts';
import { fromEventMessage, events, type EventBus, type Subscription } from '@mailroute/messaging';
import type { Logger } from '@mailroute/platform';

/** Send states an agent's stream reports; CHECKING and OUTCOME_UNKNOWN say the reply may have gone out. */
const reportedSendStates = new Set<number>([
  SendState.SEND_STATE_RETRYING,
  SendState.SEND_STATE_CHECKING,
  SendState.SEND_STATE_SENT,
  SendState.SEND_STATE_FAILED,
  SendState.SEND_STATE_OUTCOME_UNKNOWN,
]);

type StreamEvent = NonNullable<ConnectResponse['event']>;

/** One connected desktop stream on this replica. */
export interface DesktopSession {
  tenantId: string;
  agentId: string;
  clientInstanceId: string;
  /** Offers and held interactions this stream knows of, so it can be told when they end. */
  offers: Map<string, string>;
  held: Set<string>;
  /** The version of each interaction this stream's snapshot showed: a change up to it is no news to the stream. */
  snapshotVersions: Map<string, number>;
  /** The stored presence this stream was last told of (see presence.ts). */
  presenceSeen: { since: number; presence: number } | undefined;
  next(signal: AbortSignal, timeoutMs: number): Promise<StreamEvent | 'timeout' | 'closed'>;
  push(event: StreamEvent): void;
  close(final?: StreamEvent): void;
}

function createSession(tenantId: string, agentId: string, clientInstanceId: string): DesktopSession {
  const queue: StreamEvent[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  return {
    tenantId,
    agentId,
    clientInstanceId,
    offers: new Map(),
    held: new Set(),
    snapshotVersions: new Map(),
    presenceSeen: undefined,
    push(event) {
      if (closed) return;
      queue.push(event);
      wake?.();
    },
    close(final) {
      if (final) queue.push(final);
      closed = true;
      wake?.();
    },
    async next(signal, timeoutMs) {
      for (;;) {
        const item = queue.shift();
        if (item) return item;
        if (closed || signal.aborted) return 'closed';
        const outcome = await new Promise<'wake' | 'timeout'>((resolve) => {
          const timer = setTimeout(() => resolve('timeout'), timeoutMs);
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve('wake');
          };
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
        wake = undefined;
        if (outcome === 'timeout' && queue.length === 0) return 'timeout';
      }
    },
  };
}

const revokedReason = (reason: StateChangeReason): OfferRevokedReason => {
  switch (reason) {
    case StateChangeReason.STATE_CHANGE_REASON_OFFER_TIMED_OUT:
      return OfferRevokedReason.OFFER_REVOKED_REASON_TIMED_OUT;
    case StateChangeReason.STATE_CHANGE_REASON_OFFER_DECLINED:
      return OfferRevokedReason.OFFER_REVOKED_REASON_DECLINED;
    case StateChangeReason.STATE_CHANGE_REASON_OFFER_REVOKED:
      return OfferRevokedReason.OFFER_REVOKED_REASON_AGENT_UNAVAILABLE;
    default:
      return OfferRevokedReason.OFFER_REVOKED_REASON_SUPERVISOR;
  }
};

/** How many interactions' newest delivered version the hub remembers (the oldest forgotten first). */
const trackedVersions = 50_000;

/**
 * The desktop streams connected to this replica, fed by every replica's InteractionStateChanged
 * events (a consumer group of its own per replica, so each replica sees all events).
 *
 * Those events come at least once and not always in version order: a redelivery repeats changes, and
 * a commit waits for its event only `publishWaitMs`, so a slow publish (or the outbox relay's, after a
 * failed one) can land after the next version's. The hub acts on each interaction's newest change
 * only; acting on an older one revoked a standing offer and then offered it again.
 */
export function createDesktopHub(options: { bus: EventBus; logger: Logger; replicaId: string }) {
  const sessions = new Map<string, DesktopSession>();
  let subscription: Subscription | undefined;
  const key = (tenantId: string, agentId: string) => `${tenantId}/${agentId}`;
  /** tenant/interaction → the newest version delivered, in delivery order (a bounded memory). */
  const newestDelivered = new Map<string, number>();

  /** False for a change at or below a version already delivered; records the others. */
  function isNewest(change: InteractionStateChanged): boolean {
    if (!change.version) return true; // an older producer's event without a version
    const interactionKey = `${change.tenantId}/${change.interactionId}`;
    if (change.version <= (newestDelivered.get(interactionKey) ?? 0)) return false;
    newestDelivered.delete(interactionKey);
    newestDelivered.set(interactionKey, change.version);
    if (newestDelivered.size > trackedVersions) {
      const oldest = newestDelivered.keys().next().value;
      if (oldest !== undefined) newestDelivered.delete(oldest);
    }
    return true;
  }

  function deliver(change: InteractionStateChanged): void {
    const interaction = change.interaction;
    if (!interaction || !isNewest(change)) return;
    const id = change.interactionId;
    /** A stream whose snapshot already showed this version (or a newer one) of the interaction. */
    const seenInSnapshot = (session: DesktopSession) => change.version <= (session.snapshotVersions.get(id) ?? 0);
    // The offer's own id (kept while the offer stands); events of older producers: the change's version.
    const offerId = interaction.offerId || `${id}~${change.version}`;
    // Offers and held interactions that this change ends, for whichever local stream knew them. A
    // new offer to the same agent revokes the one it replaces: one offer per interaction, always.
    for (const session of sessions.values()) {
      if (session.tenantId !== change.tenantId || seenInSnapshot(session)) continue;
      const known = session.offers.get(id);
      const stillOffered =
        change.state === InteractionState.INTERACTION_STATE_OFFERED &&
        interaction.offeredAgentId === session.agentId &&
        known === offerId;
      if (known && !stillOffered) {
        session.offers.delete(id);
        const accepted = change.state === InteractionState.INTERACTION_STATE_ASSIGNED && interaction.agentId === session.agentId;
        if (!accepted)
          session.push({
            $case: 'offerRevoked',
            value: { offerId: known, interactionId: id, reason: revokedReason(change.reason) },
          });
      }
      const holds =
        (change.state === InteractionState.INTERACTION_STATE_ASSIGNED ||
          change.state === InteractionState.INTERACTION_STATE_REPLIED) &&
        interaction.agentId === session.agentId;
      if (session.held.has(id) && !holds) {
        session.held.delete(id);
        session.push({
          $case: 'assignmentEnded',
          value: {
            interactionId: id,
            reason:
              change.state === InteractionState.INTERACTION_STATE_COMPLETED
                ? AssignmentEndReason.ASSIGNMENT_END_REASON_COMPLETED
                : change.state === InteractionState.INTERACTION_STATE_ASSIGNED
                  ? AssignmentEndReason.ASSIGNMENT_END_REASON_REASSIGNED
                  : AssignmentEndReason.ASSIGNMENT_END_REASON_TRANSFERRED,
            endedBy: change.actor,
          },
        });
      } else if (session.held.has(id) && holds) {
        session.push({ $case: 'interactionUpdated', value: { interaction, reason: change.reason } });
      } else if (holds) {
        session.held.add(id);
        session.push({
          $case: 'assignment',
          value: {
            interaction,
            reason:
              change.reason === StateChangeReason.STATE_CHANGE_REASON_OFFER_ACCEPTED
                ? AssignmentReason.ASSIGNMENT_REASON_OFFER_ACCEPTED
                : AssignmentReason.ASSIGNMENT_REASON_SUPERVISOR,
            note: '',
          },
        });
      }
    }
    if (change.state === InteractionState.INTERACTION_STATE_OFFERED && interaction.offeredAgentId) {
      const session = sessions.get(key(change.tenantId, interaction.offeredAgentId));
      if (session && !seenInSnapshot(session) && session.offers.get(id) !== offerId) {
        session.offers.set(id, offerId);
        session.push({ $case: 'offer', value: offerFromInteraction(offerId, interaction) });
      }
    }
  }

  /**
   * A send's progress for the agent who asked for it (or, failing that, the local stream holding
   * the interaction). A redelivered result may repeat an event: desktops key them by (send_id, state).
   */
  function deliverSendResult(result: OutboundResult): void {
    if (!reportedSendStates.has(result.state)) return;
    const requester = result.requestedBy?.kind === ActorKind.ACTOR_KIND_AGENT ? result.requestedBy.id : '';
    const targets = requester
      ? [sessions.get(key(result.tenantId, requester))]
      : [...sessions.values()].filter(
          (s) => s.tenantId === result.tenantId && result.interactionId !== '' && s.held.has(result.interactionId),
        );
    for (const session of targets) {
      session?.push({
        $case: 'sendResult',
        value: {
          sendId: result.sendId,
          idempotencyKey: result.idempotencyKey,
          interactionId: result.interactionId,
          state: result.state,
          failure: result.state === SendState.SEND_STATE_SENT ? undefined : result.failure,
          sent: result.state === SendState.SEND_STATE_SENT ? result.sent : undefined,
        },
      });
    }
  }

  return {
    async start(): Promise<void> {
      subscription = await options.bus.subscribe({
        groupId: `interaction-router-desktop-${options.replicaId}`,
        ephemeralGroup: true,
        topics: [events.interactionStateChanged.topic, events.outboundResult.topic],
        fromBeginning: false,
        handler: async (message) => {
          if (message.topic === events.outboundResult.topic) deliverSendResult(fromEventMessage('outboundResult', message));
          else deliver(fromEventMessage('interactionStateChanged', message));
        },
      });
    },
    /** Registers a stream, replacing (and ending) another of the same agent on this replica. */
    open(tenantId: string, agentId: string, clientInstanceId: string): DesktopSession {
      const previous = sessions.get(key(tenantId, agentId));
      previous?.close({ $case: 'sessionReplaced', value: { newClientInstanceId: clientInstanceId } });
      const session = createSession(tenantId, agentId, clientInstanceId);
      sessions.set(key(tenantId, agentId), session);
      return session;
    },
    release(session: DesktopSession): void {
      if (sessions.get(key(session.tenantId, session.agentId)) === session)
        sessions.delete(key(session.tenantId, session.agentId));
    },
    get(tenantId: string, agentId: string): DesktopSession | undefined {
      return sessions.get(key(tenantId, agentId));
    },
    sessions: () => [...sessions.values()],
    /** True once this replica's event consumer owns partitions. */
    consuming: () => (subscription?.assignments().length ?? 0) > 0,
    /** Tells every local stream to reconnect elsewhere (shutdown). */
    drain(): void {
      for (const session of sessions.values())
        session.close({ $case: 'draining', value: { reconnectAfter: { seconds: 0, nanos: 500_000_000 } } });
    },
    deliver,
    deliverSendResult,
    async stop(): Promise<void> {
      await subscription?.close({ graceMs: 1_000 });
    },
  };
}

export function offerFromInteraction(offerId: string, interaction: NonNullable<InteractionStateChanged['interaction']>) {
  return {
    offerId,
    interaction,
    expiresAt: interaction.offerExpiresAt,
    timeout: undefined,
    reason: 1,
    note: '',
  };
}

export type DesktopHub = ReturnType<typeof createDesktopHub>;
