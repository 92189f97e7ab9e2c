import { randomUUID } from 'node:crypto';
import {
  ActorKind,
  InteractionState,
  OutboundRequest,
  ReplyMode,
  SendKind,
  SendNewRequest,
  SendOrigin,
  SendReplyRequest,
  SendState,
  type OutboundSendServiceImplementation,
  type OutgoingMessage,
  type SendStatus,
} from '@mailroute/contracts';
import { eventKey, events, toEventMessage, type EventBus } from '@mailroute/messaging';
import { receiveAttachmentUpload } from '@mailroute/persistence';
import {
  assertValidOutgoingMessage,
  FailedPreconditionError,
  IdempotencyKeyReusedError,
  idRules,
  readId,
  validateOutgoingMessage,
  MailrouteError,
  NotFoundError,
  payloadFingerprint,
  PermissionDeniedError,
  ValidationError,
  type TenantCallContext,
} from '@mailroute/platform';
import type { MailboxDirectory } from '../mailboxes/mailbox-directory';
import { isFinalState, sendKey, type SendEngine } from '../send/send-engine';
import type { OutboundSendStores, SendRecord } from '../store/outbound-send.stores';

/** API-key scopes of OutboundSendService. */
const outboundSendScopes = { read: 'sends.read', write: 'sends.write', supervise: 'sends.supervise' } as const;

/** The scope each OutboundSendService method needs (the loop-protection override also needs `sends.supervise`). */
export const scopeByMethod: Readonly<Record<string, string>> = {
  SendReply: outboundSendScopes.write,
  SendNew: outboundSendScopes.write,
  GetSendStatus: outboundSendScopes.read,
  ListSends: outboundSendScopes.read,
  UploadAttachment: outboundSendScopes.write,
};

/** The API's view of a stored send. */
function toSendStatus(record: SendRecord): SendStatus {
  const request = OutboundRequest.fromJSON(record.request);
  return {
    sendId: record.sendId,
    idempotencyKey: request.idempotencyKey,
    kind: request.kind,
    origin: record.origin,
    requestedBy: request.requestedBy,
    interactionId: request.interactionId,
    mailboxId: request.mailboxId,
    mailboxAddress: request.mailboxAddress,
    replyToGraphMessageId: request.replyToGraphMessageId,
    replyMode: request.replyMode,
    subject: request.content?.subject ?? '',
    state: record.state,
    failure: record.failure,
    sent: record.sent ? { ...record.sent, sentAt: new Date(record.sent.sentAt) } : undefined,
    attempts: record.attempts,
    nextAttemptAt:
      record.nextAttemptAt &&
      (record.state === SendState.SEND_STATE_ACCEPTED ||
        record.state === SendState.SEND_STATE_RETRYING ||
        record.state === SendState.SEND_STATE_CHECKING)
        ? new Date(record.nextAttemptAt)
        : undefined,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
  };
}

/**
 * The shapes of ids and enum values are checked with every request (platform request-fields, run by
 * the gRPC server); the handlers check only what that cannot: which fields are required, and bounds
 * stricter than the shared rule.
 */
const readIdempotencyKey = (key: string): string => readId(key, idRules.idempotencyKey, 'idempotency_key');

class UnimplementedError extends MailrouteError {
  constructor(what: string) {
    super('FAILED_PRECONDITION', `${what} is not available yet in outbound-send`, { retryable: false });
  }
}

export interface OutboundSendHandlerDeps {
  stores: OutboundSendStores;
  engine: SendEngine;
  bus: EventBus;
  mailboxes: MailboxDirectory;
  /** How long an upload no send references is kept (default 24 hours). */
  uploadTtlMs?: number;
  clock?: () => number;
}

/**
 * OutboundSendService: records the send (idempotency key → send id by unique insert), then hands
 * it to the engine through the outbound-request topic — the same path as agents' replies, so one
 * consumer per mailbox sends and a crash is recovered by redelivery.
 */
export function createOutboundSendHandlers(deps: OutboundSendHandlerDeps): OutboundSendServiceImplementation<TenantCallContext> {
  const { stores, engine } = deps;
  const clock = deps.clock ?? Date.now;

  /**
   * The send an idempotency key was used for. With `fingerprint` (a SendReply/SendNew payload): a
   * key first used for a different payload is refused (IdempotencyKeyReusedError), not answered
   * with that other send.
   */
  async function existing(tenantId: string, idempotencyKey: string, fingerprint?: string): Promise<SendRecord | undefined> {
    const marker = await stores.idempotency.get(`${tenantId}/api/${idempotencyKey}`);
    if (marker && fingerprint !== undefined && marker.fingerprint !== undefined && marker.fingerprint !== fingerprint)
      throw new IdempotencyKeyReusedError('send');
    return marker ? stores.sends.get(sendKey(tenantId, marker.sendId)) : undefined;
  }

  /** Records the request under its idempotency key (or returns the original send) and publishes it. */
  async function submit(context: TenantCallContext, request: OutboundRequest, fingerprint: string): Promise<SendStatus> {
    const marker = `${context.tenantId}/api/${request.idempotencyKey}`;
    if (!(await stores.idempotency.insert(marker, { sendId: request.sendId, at: clock(), fingerprint }))) {
      const winner = await existing(context.tenantId, request.idempotencyKey, fingerprint);
      if (winner) return republish(winner);
      throw new MailrouteError('UNAVAILABLE', 'the send for this idempotency key is being recorded; retry', { retryable: true });
    }
    const record = await engine.intake(request, SendOrigin.SEND_ORIGIN_API, { requestPublished: false });
    return republish(record);
  }

  /** Publishes the OutboundRequest of an API send that is not final and not yet published (a crash in between). */
  async function republish(record: SendRecord): Promise<SendStatus> {
    if (record.origin === SendOrigin.SEND_ORIGIN_API && !record.requestPublished && !isFinalState(record.state)) {
      // The stored request holds no attachment bytes (Kafka's record limit): the consumer reads them from the store.
      const request = OutboundRequest.fromJSON(record.request);
      await deps.bus.publish(
        events.outboundRequest.topic,
        toEventMessage('outboundRequest', eventKey(record.tenantId, request.mailboxId), request),
      );
      const latest = (await stores.sends.get(sendKey(record.tenantId, record.sendId))) ?? record;
      await stores.sends.put(sendKey(record.tenantId, record.sendId), { ...latest, requestPublished: true });
      return toSendStatus(latest);
    }
    return toSendStatus(record);
  }

  /**
   * An agent holds the interaction or is being offered it: the API replies in its place only with
   * supervisor_override (and the supervisor scope); FAILED_PRECONDITION naming the agent otherwise.
   */
  async function refuseAgentsInteraction(context: TenantCallContext, interactionId: string, override: boolean): Promise<void> {
    if (override && !context.caller.scopes.has(outboundSendScopes.supervise))
      throw new PermissionDeniedError(`supervisor_override needs the ${outboundSendScopes.supervise} scope`);
    const holder = await stores.holders.get(`${context.tenantId}/${interactionId}`);
    if (!holder || override) return;
    const held =
      holder.state === InteractionState.INTERACTION_STATE_ASSIGNED || holder.state === InteractionState.INTERACTION_STATE_REPLIED;
    const offered = holder.state === InteractionState.INTERACTION_STATE_OFFERED;
    if (held && holder.agentId)
      throw new FailedPreconditionError(
        `the interaction is held by agent ${holder.agentId}; set supervisor_override to reply in the agent's place`,
        { reason: 'INTERACTION_HELD_BY_AGENT' },
      );
    if (offered && holder.offeredAgentId)
      throw new FailedPreconditionError(
        `the interaction is being offered to agent ${holder.offeredAgentId}; set supervisor_override to reply in the agent's place`,
        { reason: 'INTERACTION_HELD_BY_AGENT' },
      );
  }

  function actorOf(context: TenantCallContext) {
    return { kind: ActorKind.ACTOR_KIND_SUPERVISOR, id: context.caller.keyId, displayName: '' };
  }

  function newRequest(context: TenantCallContext, fields: Partial<OutboundRequest>): OutboundRequest {
    return OutboundRequest.fromPartial({
      eventId: randomUUID(),
      tenantId: context.tenantId,
      occurredAt: new Date(clock()),
      sendId: randomUUID(),
      requestedBy: actorOf(context),
      ...fields,
    });
  }

  return {
    async sendReply(request, context) {
      const idempotencyKey = readIdempotencyKey(request.idempotencyKey);
      if (!request.interactionId) throw new ValidationError('interaction_id', 'is required');
      if (request.interactionId.length > 128) throw new ValidationError('interaction_id', 'is not an interaction id');
      assertValidOutgoingMessage(validateOutgoingMessage(request.content, SendKind.SEND_KIND_REPLY));
      if (request.allowAutomatedRecipient && !context.caller.scopes.has(outboundSendScopes.supervise)) {
        throw new PermissionDeniedError(`allow_automated_recipient needs the ${outboundSendScopes.supervise} scope`);
      }
      const fingerprint = payloadFingerprint({ sendReply: SendReplyRequest.toJSON({ ...request, idempotencyKey: '' }) });
      const known = await existing(context.tenantId, idempotencyKey, fingerprint);
      if (known) return { send: await republish(known) };
      const interaction = await stores.interactions.get(`${context.tenantId}/${request.interactionId}`);
      if (!interaction) throw new NotFoundError('interaction', request.interactionId);
      await refuseAgentsInteraction(context, request.interactionId, request.supervisorOverride);
      const send = await submit(
        context,
        newRequest(context, {
          idempotencyKey,
          kind: SendKind.SEND_KIND_REPLY,
          interactionId: request.interactionId,
          mailboxId: interaction.mailboxId,
          mailboxAddress: interaction.mailboxAddress,
          replyToGraphMessageId: request.replyToGraphMessageId || interaction.latestGraphMessageId,
          replyMode: request.mode === ReplyMode.REPLY_MODE_UNSPECIFIED ? ReplyMode.REPLY_MODE_REPLY : request.mode,
          content: request.content as OutgoingMessage,
          allowAutomatedRecipient: request.allowAutomatedRecipient,
        }),
        fingerprint,
      );
      return { send };
    },

    async sendNew(request, context) {
      const idempotencyKey = readIdempotencyKey(request.idempotencyKey);
      if (!request.mailboxId) throw new ValidationError('mailbox_id', 'is required');
      assertValidOutgoingMessage(validateOutgoingMessage(request.content, SendKind.SEND_KIND_NEW));
      const fingerprint = payloadFingerprint({ sendNew: SendNewRequest.toJSON({ ...request, idempotencyKey: '' }) });
      const known = await existing(context.tenantId, idempotencyKey, fingerprint);
      if (known) return { send: await republish(known) };
      const mailbox = await deps.mailboxes.get(context.tenantId, request.mailboxId);
      if (!mailbox) throw new NotFoundError('mailbox', request.mailboxId);
      if (request.interactionId) {
        const interaction = await stores.interactions.get(`${context.tenantId}/${request.interactionId}`);
        if (!interaction) throw new NotFoundError('interaction', request.interactionId);
        if (interaction.mailboxId !== request.mailboxId)
          throw new ValidationError('interaction_id', 'the interaction arrived at another mailbox');
      }
      const send = await submit(
        context,
        newRequest(context, {
          idempotencyKey,
          kind: SendKind.SEND_KIND_NEW,
          interactionId: request.interactionId,
          mailboxId: request.mailboxId,
          mailboxAddress: mailbox.address,
          content: request.content as OutgoingMessage,
        }),
        fingerprint,
      );
      return { send };
    },

    async getSendStatus(request, context) {
      const key = request.key;
      if (!key) throw new ValidationError('key', 'is required: send_id or idempotency_key');
      let record: SendRecord | undefined;
      if (key.$case === 'sendId') {
        if (!key.value || key.value.length > 64) throw new ValidationError('send_id', 'is not a send id');
        record = await stores.sends.get(sendKey(context.tenantId, key.value));
      } else {
        record = await existing(context.tenantId, readIdempotencyKey(key.value));
      }
      if (!record) throw new NotFoundError('send', key.value);
      return { send: toSendStatus(record) };
    },

    listSends() {
      return Promise.reject(new UnimplementedError('ListSends'));
    },

    async uploadAttachment(requests, context) {
      const upload = await receiveAttachmentUpload(requests, {
        blobs: stores.blobs,
        tenantId: context.tenantId,
        clock: () => new Date(clock()),
        ttlMs: deps.uploadTtlMs,
      });
      return { upload };
    },
  };
}
