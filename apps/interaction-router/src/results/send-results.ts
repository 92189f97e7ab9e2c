import {
  ActorKind,
  InteractionState,
  OutboundRequest,
  type OutboundThreadMessage,
  SendFailure,
  SendState,
  SentMessage,
  type OutboundResult,
} from '@mailroute/contracts';
import type { Logger } from '@mailroute/platform';
import type { InteractionRecord } from '@mailroute/persistence';
import type { RouterStores, SendDocument } from '../store/router-stores';
import type { RouterCore } from '../routing/router-core';
import { agentSendKey, foreignSendKey, outboundMessageKey, sendIndexKey } from '../store/router-keys';

const S = InteractionState;
// OUTCOME_UNKNOWN is final but not a failure: the reply may have gone out (the agent must not simply resend).
const finalSendStates = new Set<number>([
  SendState.SEND_STATE_SENT,
  SendState.SEND_STATE_FAILED,
  SendState.SEND_STATE_OUTCOME_UNKNOWN,
]);
/** How many counted send ids an interaction remembers (a redelivery older than this many replies is far beyond Kafka's redelivery window). */
const rememberedSends = 50;

export type SendResultOutcome = 'recorded' | 'stale' | 'unknown-send';

/** The `messages` entry of a send on its interaction's thread: its OutboundRequest and where the send is kept. */
export const outboundThreadEntry = (sendKey: string, send: Pick<SendDocument, 'request' | 'requestedAt'>) => ({
  kind: 'outbound' as const,
  json: { ...(OutboundRequest.toJSON(OutboundRequest.fromJSON(send.request)) as object), sendKey },
  at: send.requestedAt,
});

/** An outbound thread message: the request as recorded, with its send's latest state, failure and sent message. */
export function outboundThreadMessage(json: unknown, send: SendDocument | undefined, requestedAt: number): OutboundThreadMessage {
  const request = OutboundRequest.fromJSON(json);
  return {
    sendId: request.sendId,
    sentBy: request.requestedBy,
    replyMode: request.replyMode,
    replyToGraphMessageId: request.replyToGraphMessageId,
    content: request.content,
    sendState: send?.state ?? SendState.SEND_STATE_ACCEPTED,
    failure: send?.failure === undefined ? undefined : SendFailure.fromJSON(send.failure),
    sent: send?.sent === undefined ? undefined : SentMessage.fromJSON(send.sent),
    requestedAt: new Date(requestedAt),
    automatic: request.automatic,
  };
}

/**
 * Whether `result` moves the send forward: a final state is never followed by another, and a
 * RETRYING report never overtakes a later one (idempotency is (send_id, state, attempts)).
 */
export function advancesSend(
  stored: Pick<SendDocument, 'state' | 'attempts'>,
  result: Pick<OutboundResult, 'state' | 'attempts'>,
): boolean {
  if (finalSendStates.has(stored.state)) return false;
  if (finalSendStates.has(result.state)) return true;
  if (
    result.state !== SendState.SEND_STATE_RETRYING &&
    result.state !== SendState.SEND_STATE_SENDING &&
    result.state !== SendState.SEND_STATE_CHECKING
  )
    return false;
  return result.attempts > (stored.attempts ?? 0) || stored.state === SendState.SEND_STATE_ACCEPTED;
}

/**
 * Records OutboundResult events of agent replies: the send's state, attempts, failure and sent
 * message; on SENT the interaction becomes REPLIED (reply count, first reply time) and, when the
 * reply asked for it, COMPLETED. Every step is idempotent, so a redelivered result changes nothing:
 * the send document only moves forward, and the counted send id is part of the interaction's
 * committed version.
 */
export function createSendResultHandler(deps: { core: RouterCore; stores: RouterStores; logger: Logger }) {
  const { core, stores, logger } = deps;

  /**
   * An agent's reply is found by its agent and idempotency key (Reply stores no send-id index entry
   * for it); any other send, and agents' sends stored before, through the send-id index.
   */
  async function findSend(result: OutboundResult): Promise<{ key: string; send: SendDocument } | undefined> {
    const byKey = async (key: string | undefined) => {
      const send = key ? await stores.sends.get(key) : undefined;
      return send && send.sendId === result.sendId ? { key: key ?? '', send } : undefined;
    };
    const agentKey =
      result.requestedBy?.kind === ActorKind.ACTOR_KIND_AGENT && result.requestedBy.id
        ? agentSendKey(result.tenantId, result.requestedBy.id, result.idempotencyKey)
        : undefined;
    return (
      (await byKey(agentKey)) ??
      (await byKey((await stores.sendIndex.get(sendIndexKey(result.tenantId, result.sendId)))?.sendKey))
    );
  }

  /**
   * Records a send this router did not originate (the workload-manager API of outbound-send, or
   * anything else that sends about an interaction) from its OutboundRequest or, when the result
   * comes first, from the result; the request fills the content in whichever comes second. Kept
   * under `<tenant>/send/<sendId>` (agents' keys are `<tenant>/<agent>/<key>`; agent ids have no "/").
   */
  async function recordForeign(
    tenantId: string,
    request: OutboundRequest,
    fromRequest: boolean,
  ): Promise<{ key: string; send: SendDocument }> {
    const key = foreignSendKey(tenantId, request.sendId);
    const requestedAt = request.occurredAt?.getTime() ?? core.clock();
    const fresh: SendDocument = {
      sendId: request.sendId,
      interactionId: request.interactionId,
      mailboxId: request.mailboxId,
      state: SendState.SEND_STATE_ACCEPTED,
      requestedAt,
      request: OutboundRequest.toJSON(request),
      published: true,
    };
    let send = fresh;
    if (!(await stores.sends.insert(key, fresh))) {
      const stored = await stores.sends.get(key);
      send = stored ?? fresh;
      if (stored && fromRequest && !(stored.request as { content?: unknown }).content) {
        send = { ...stored, request: OutboundRequest.toJSON(request) };
        await stores.sends.put(key, send);
      }
    }
    await stores.sendIndex.insert(sendIndexKey(tenantId, send.sendId), { sendKey: key });
    const thread = outboundMessageKey(tenantId, send.interactionId, send.requestedAt, send.sendId);
    const message = outboundThreadEntry(key, send);
    if (fromRequest) await stores.messages.put(thread, message);
    else await stores.messages.insert(thread, message);
    return { key, send };
  }

  /** Counts the SENT reply on the interaction (REPLIED) and completes it when asked; both idempotent. */
  async function applySent(tenantId: string, send: SendDocument, request: OutboundRequest, sentAt: number): Promise<void> {
    // An automatic acknowledgement is on the thread, but it is no reply: no REPLIED, no first response.
    if (request.automatic) return;
    const at = core.clock(); // versions' updatedAt never go back, whatever the sender's clock says
    const agentId = request.requestedBy?.id ?? '';
    if (request.requestedBy?.kind !== ActorKind.ACTOR_KIND_AGENT) {
      // Not an agent's reply: counted on the interaction whoever holds it (REPLIED when an agent does).
      await core.rereadOnConflict(
        tenantId,
        send.interactionId,
        async (record): Promise<InteractionRecord | 'retry' | undefined> => {
          if (record.repliedSendIds?.includes(send.sendId)) return record;
          if (
            record.state === S.INTERACTION_STATE_RECEIVED ||
            record.state === S.INTERACTION_STATE_COMPLETED ||
            record.state === S.INTERACTION_STATE_MERGED ||
            record.state === S.INTERACTION_STATE_DISCARDED
          ) {
            logger.info(
              { tenantId, interactionId: send.interactionId, sendId: send.sendId },
              'router: send recorded on the thread only (the interaction is closed)',
            );
            return undefined;
          }
          const next = await core.applyChange(
            record,
            { type: 'reply', at, agentId: record.agentId ?? '', by: { kind: 'supervisor', id: agentId } },
            {
              actorName: request.requestedBy?.displayName,
              note: `send ${send.sendId}`,
              patch: countedReply(record, send.sendId, sentAt, at),
            },
          );
          return next ?? 'retry';
        },
      );
      return;
    }
    const counted = await core.rereadOnConflict(
      tenantId,
      send.interactionId,
      async (record): Promise<InteractionRecord | 'retry' | undefined> => {
        if (record.repliedSendIds?.includes(send.sendId)) return record;
        const held =
          (record.state === S.INTERACTION_STATE_ASSIGNED || record.state === S.INTERACTION_STATE_REPLIED) &&
          record.agentId === agentId;
        if (!held) {
          // Completed, transferred or taken over meanwhile: the send is recorded on its own document only.
          logger.info(
            { tenantId, interactionId: send.interactionId, sendId: send.sendId },
            'router: reply sent after the agent no longer held the interaction',
          );
          return undefined;
        }
        const next = await core.applyChange(
          record,
          { type: 'reply', at, agentId },
          {
            actorName: request.requestedBy?.displayName,
            note: `send ${send.sendId}`,
            patch: countedReply(record, send.sendId, sentAt, at),
          },
        );
        return next ?? 'retry';
      },
    );
    if (!counted || !request.completeAfterSend) return;
    const completed = await core.rereadOnConflict(
      tenantId,
      send.interactionId,
      async (record): Promise<InteractionRecord | 'retry' | undefined> => {
        if (record.state === S.INTERACTION_STATE_COMPLETED) return undefined;
        // Only the reply's own REPLIED state completes: a customer message that arrived since (ASSIGNED) keeps it open.
        if (record.state !== S.INTERACTION_STATE_REPLIED || record.agentId !== agentId) return undefined;
        const next = await core.applyChange(
          record,
          { type: 'complete', at, by: { kind: 'agent', agentId } },
          { actorName: request.requestedBy?.displayName, note: `completed after send ${send.sendId}` },
        );
        return next ?? 'retry';
      },
    );
    if (completed) {
      await core.releaseSlot(tenantId, agentId, send.interactionId);
      core.notifyWork(tenantId);
    }
  }

  return {
    /**
     * Records an OutboundRequest on the thread of its interaction when this router did not
     * originate it (agents' replies are recorded by Reply itself).
     */
    async handleRequest(request: OutboundRequest): Promise<SendResultOutcome> {
      if (!request.tenantId || !request.sendId || !request.interactionId) return 'unknown-send';
      if (request.requestedBy?.kind === ActorKind.ACTOR_KIND_AGENT) return 'stale';
      if (!(await stores.interactions.get(request.tenantId, request.interactionId))) return 'unknown-send'; // another deployment's
      await recordForeign(request.tenantId, request, true);
      return 'recorded';
    },

    async handle(result: OutboundResult): Promise<SendResultOutcome> {
      if (!result.tenantId || !result.sendId) {
        logger.warn({ eventId: result.eventId }, 'router: outbound result without tenant or send id ignored');
        return 'unknown-send';
      }
      let found = await findSend(result);
      if (
        !found &&
        result.interactionId &&
        result.requestedBy?.kind !== ActorKind.ACTOR_KIND_AGENT &&
        (await stores.interactions.get(result.tenantId, result.interactionId))
      ) {
        // A send about one of our interactions that we did not originate, seen before its request.
        found = await recordForeign(
          result.tenantId,
          OutboundRequest.fromPartial({
            tenantId: result.tenantId,
            sendId: result.sendId,
            idempotencyKey: result.idempotencyKey,
            kind: result.kind,
            interactionId: result.interactionId,
            mailboxId: result.mailboxId,
            requestedBy: result.requestedBy,
            occurredAt: result.occurredAt,
          }),
          false,
        );
      }
      if (!found) return 'unknown-send'; // another deployment's
      const { key, send } = found;
      const request = OutboundRequest.fromJSON(send.request);
      const at = result.sent?.sentAt?.getTime() ?? result.occurredAt?.getTime() ?? core.clock();
      if (advancesSend(send, result)) {
        const updated: SendDocument = {
          ...send,
          state: result.state,
          attempts: result.attempts,
          failure: result.failure ? SendFailure.toJSON(result.failure) : undefined,
          sent: result.sent ? SentMessage.toJSON(result.sent) : undefined,
          resultAt: at,
          published: true,
        };
        await stores.sends.put(key, updated);
      } else if (send.state !== result.state) return 'stale';
      // Also on a redelivery of the final result: a crash may have stopped before these steps.
      if (result.state === SendState.SEND_STATE_SENT) await applySent(result.tenantId, send, request, at);
      return 'recorded';
    },
  };
}

/** The reply-count fields of an interaction after the send `sendId` was counted. */
function countedReply(record: InteractionRecord, sendId: string, sentAt: number, at: number): Partial<InteractionRecord> {
  return {
    replyCount: record.replyCount + 1,
    firstRepliedAt: record.firstRepliedAt ?? Math.min(sentAt, at),
    repliedSendIds: [...(record.repliedSendIds ?? []), sendId].slice(-rememberedSends),
  };
}

export type SendResultHandler = ReturnType<typeof createSendResultHandler>;
