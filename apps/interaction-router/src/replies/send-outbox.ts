import { ActorKind, OutboundRequest, SendState } from '@mailroute/contracts';
import { eventKey, events, toEventMessage, type EventBus } from '@mailroute/messaging';
import type { Logger } from '@mailroute/platform';
import type { MarkerRemoval } from '../changes/marker-removal';
import type { OutboxDocument, RouterStores, SendDocument } from '../store/router-stores';
import { outboundThreadEntry } from '../results/send-results';
import { agentSendKey, outboundMessageKey, sendIndexKey, sendOutboxKey } from '../store/router-keys';

/** Markers whose writer never stored the send (it crashed in between) are dropped after this long. */
const abandonedAfterMs = 60_000;

/**
 * The router's promise to publish an accepted reply: the outbox pattern of interaction changes,
 * applied to sends. `record` writes the outbox marker and then the send with its OutboundRequest
 * (one document); from then on the send is published by the router itself — at once in the
 * background, else by the relay on any replica, however long Kafka is down — and nothing waits on
 * Kafka before the agent is told ACCEPTED. outbound-send records a send once per send id, so a
 * second publication (two replicas' relays racing) still sends once.
 */
export function createSendOutbox(deps: {
  stores: RouterStores;
  bus: EventBus;
  logger: Logger;
  clock: () => number;
  /** Deletes published markers in batches (shared with the change commits). */
  markers: Pick<MarkerRemoval, 'remove'>;
}) {
  const { stores, bus, logger, clock } = deps;
  /** Markers this replica is publishing now: its relay leaves them alone. */
  const inFlight = new Set<string>();

  /**
   * The thread message and the send-id index (store only; inserts, so repeating them is harmless).
   * An agent's reply needs no index entry: its results name the agent and the idempotency key, its
   * key (results/send-results.ts).
   */
  async function index(tenantId: string, key: string, send: SendDocument): Promise<void> {
    const { requestedBy, idempotencyKey } = OutboundRequest.fromJSON(send.request);
    const byAgent =
      requestedBy?.kind === ActorKind.ACTOR_KIND_AGENT && agentSendKey(tenantId, requestedBy.id, idempotencyKey) === key;
    if (!byAgent) await stores.sendIndex.insert(sendIndexKey(tenantId, send.sendId), { sendKey: key });
    await stores.messages.insert(
      outboundMessageKey(tenantId, send.interactionId, send.requestedAt, send.sendId),
      outboundThreadEntry(key, send),
    );
  }

  /**
   * Publishes the send's OutboundRequest and drops its marker (with the next batch): a send is
   * unpublished while its marker exists. Indexes it first unless the caller just did.
   */
  async function deliver(tenantId: string, key: string, send: SendDocument, markerKey: string, indexed: boolean): Promise<void> {
    if (inFlight.has(markerKey)) return;
    inFlight.add(markerKey);
    try {
      if (!indexed) await index(tenantId, key, send);
      const outbound = OutboundRequest.fromJSON(send.request);
      await bus.publish(
        events.outboundRequest.topic,
        toEventMessage('outboundRequest', eventKey(tenantId, send.mailboxId), outbound),
      );
      await deps.markers.remove(markerKey);
    } finally {
      inFlight.delete(markerKey);
    }
  }

  /** Starts `deliver` without waiting for it: a failure leaves the marker to the relay. */
  function deliverSoon(tenantId: string, key: string, send: SendDocument, indexed: boolean): void {
    void deliver(tenantId, key, send, sendOutboxKey(tenantId, send), indexed).catch((error: unknown) =>
      logger.warn(
        { err: error, sendId: send.sendId },
        'router: reply recorded but not published yet; the outbox relay publishes it',
      ),
    );
  }

  return {
    /**
     * Records `send` under `key` with its outbox marker. Returns the send stored under the key:
     * `send` itself when this call recorded it (then publication has started), or the one a
     * concurrent call with the same key recorded first.
     */
    async record(tenantId: string, key: string, send: SendDocument): Promise<SendDocument | undefined> {
      const markerKey = sendOutboxKey(tenantId, send);
      await stores.outbox.insert(markerKey, { at: clock(), sendKey: key });
      if (!(await stores.sends.insert(key, send))) {
        await stores.outbox.delete(markerKey);
        return stores.sends.get(key);
      }
      // Accepted from here on: what follows may fail, the relay redoes it.
      const indexed = await index(tenantId, key, send).then(
        () => true,
        (error: unknown) => {
          logger.warn({ err: error, sendId: send.sendId }, 'router: reply recorded, thread entry left to the outbox relay');
          return false;
        },
      );
      deliverSoon(tenantId, key, send, indexed);
      return send;
    },

    /** Publishes a recorded send that is still unpublished now (a desktop retry of the same key: its marker is still there), unless this replica already is. */
    retry(tenantId: string, key: string, send: SendDocument): void {
      if (send.published || send.state !== SendState.SEND_STATE_ACCEPTED) return;
      const markerKey = sendOutboxKey(tenantId, send);
      if (inFlight.has(markerKey)) return;
      void stores.outbox.get(markerKey).then(
        (marker) => (marker ? deliverSoon(tenantId, key, send, false) : undefined),
        () => deliverSoon(tenantId, key, send, false), // cannot tell: publishing twice is safe (outbound-send sends a send id once)
      );
    },

    /** The relay's step for one send marker older than its threshold. */
    async relay(markerKey: string, marker: OutboxDocument): Promise<boolean> {
      if (!marker.sendKey || inFlight.has(markerKey)) return false;
      const tenantId = markerKey.slice(0, markerKey.indexOf('/'));
      const sendId = markerKey.slice(markerKey.lastIndexOf('/') + 1);
      const send = await stores.sends.get(marker.sendKey);
      if (!send || send.sendId !== sendId) {
        // Its writer crashed before storing the send (the desktop got no answer and retries with a new send).
        if (clock() - marker.at >= abandonedAfterMs) await stores.outbox.delete(markerKey);
        return false;
      }
      if (send.published || send.state !== SendState.SEND_STATE_ACCEPTED) {
        await stores.outbox.delete(markerKey);
        return false;
      }
      await deliver(tenantId, marker.sendKey, send, markerKey, false);
      return true;
    },
  };
}

export type SendOutbox = ReturnType<typeof createSendOutbox>;
