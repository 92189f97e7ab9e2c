import { randomUUID } from 'node:crypto';
import { context as otelContext, SpanStatusCode, trace } from '@opentelemetry/api';
import { OutboundRequest, ReplyMode, ReplyRequest, SendKind, SendState, type ReplyResponse } from '@mailroute/contracts';
import {
  assertValidOutgoingMessage,
  contextFromStored,
  FailedPreconditionError,
  IdempotencyKeyReusedError,
  idRules,
  NotFoundError,
  payloadFingerprint,
  readId,
  spanContextFromStored,
  validateOutgoingMessage,
  ValidationError,
} from '@mailroute/platform';
import { referenceUpload, type InteractionRecord } from '@mailroute/persistence';
import { findVisible, heldBy, type DesktopAgent } from '../desktop/agent-access';
import { replyTargetAutomation } from '../routing/interaction-mapping';
import type { RouterCore } from '../routing/router-core';
import type { RouterStores, SendDocument } from '../store/router-stores';
import { agentSendKey } from '../store/router-keys';
import { replySignature } from './reply-signature';

const replyTracer = trace.getTracer('interaction-router');

/**
 * Runs the recording and publishing of an agent's reply in a span of the interaction's trace (the
 * intake's stored context is its parent), linked both ways with the desktop call's span, so the
 * OutboundRequest, its send by outbound-send and Graph's send follow the e-mail's trace and the
 * Reply call finds them. Without a stored context the span is a child of the call's span.
 */
async function inReplySpan<T>(record: InteractionRecord | undefined, sendId: string, run: () => Promise<T>): Promise<T> {
  const call = trace.getSpan(otelContext.active());
  const callContext = call?.spanContext();
  const stored = spanContextFromStored(record?.traceContext);
  const parent = stored ? contextFromStored(record?.traceContext) : otelContext.active();
  if (stored) call?.addLink({ context: stored, attributes: { 'mailroute.link': 'interaction' } });
  return replyTracer.startActiveSpan(
    'interaction-router.reply',
    {
      links:
        callContext && trace.isSpanContextValid(callContext)
          ? [{ context: callContext, attributes: { 'mailroute.link': 'desktop-call' } }]
          : [],
      attributes: {
        'mailroute.tenant_id': record?.tenantId ?? '',
        'mailroute.interaction_id': record?.interactionId ?? '',
        'mailroute.send_id': sendId,
      },
    },
    parent,
    async (span) => {
      try {
        return await run();
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * An agent's reply to the customer: checked as outbound-send would check it, refused when it
 * answers an automated message (a mail loop), idempotent per agent and idempotency key, and
 * ACCEPTED once stored with its outbox marker — the router then publishes its OutboundRequest
 * (replies/send-outbox.ts), so the answer never waits on Kafka.
 */
/**
 * The uploads a reply attaches must be the agent's tenant's and not expired (INVALID_ARGUMENT naming
 * the attachment otherwise); each is then kept for as long as the send may need it.
 */
async function referenceUploads(stores: RouterStores, tenantId: string, request: ReplyRequest, now: number): Promise<void> {
  for (const [index, attachment] of (request.content?.attachments ?? []).entries()) {
    if (attachment.source?.$case !== 'uploadId') continue;
    if (!(await referenceUpload(stores.blobs, tenantId, attachment.source.value, new Date(now))))
      throw new ValidationError(
        `content.attachments[${index}].upload_id`,
        'is not a completed upload of this tenant (uploads expire 24 hours after they start unless a send references them)',
      );
  }
}

export function createAgentReplies(deps: { core: RouterCore; stores: RouterStores }) {
  const { core, stores } = deps;

  async function reply(agent: DesktopAgent, request: ReplyRequest): Promise<ReplyResponse> {
    readId(request.idempotencyKey, idRules.idempotencyKey, 'idempotency_key');
    // What outbound-send would refuse later (CR/LF in a header field, sizes, recipients…) is refused now, by the same rules.
    assertValidOutgoingMessage(validateOutgoingMessage(request.content, SendKind.SEND_KIND_REPLY));
    const key = agentSendKey(agent.tenantId, agent.agentId, request.idempotencyKey);
    // A retry repeats the request; the same key with another interaction or content is a new reply under a reused key.
    const fingerprint = payloadFingerprint(ReplyRequest.toJSON({ ...request, idempotencyKey: '' }));
    const existing = await stores.sends.get(key);
    if (existing) {
      if (
        existing.interactionId !== request.interactionId ||
        (existing.fingerprint !== undefined && existing.fingerprint !== fingerprint)
      )
        throw new IdempotencyKeyReusedError('reply');
      // Still unpublished (Kafka was down): publish it now rather than at the relay's next pass (outbound-send dedupes on send_id).
      core.sendOutbox.retry(agent.tenantId, key, existing);
      return { sendId: existing.sendId, state: existing.state };
    }
    const record = await findVisible(stores, agent, request.interactionId, (r) => heldBy(r, agent.agentId));
    if (!heldBy(record, agent.agentId)) throw new NotFoundError('interaction', request.interactionId);
    const automated = replyTargetAutomation(record, request.replyToGraphMessageId);
    if (automated?.autoReply || automated?.bounce)
      throw new FailedPreconditionError(
        'the customer message is automated (auto-reply or bounce); replying could start a mail loop',
      );
    const now = core.clock();
    await referenceUploads(stores, agent.tenantId, request, now);
    const sendId = randomUUID();
    const signature = await replySignature(core.cachedConfig, agent, record);
    const outbound = OutboundRequest.fromPartial({
      eventId: randomUUID(),
      tenantId: agent.tenantId,
      occurredAt: new Date(now),
      sendId,
      idempotencyKey: request.idempotencyKey,
      kind: SendKind.SEND_KIND_REPLY,
      interactionId: record.interactionId,
      mailboxId: record.mailboxId,
      mailboxAddress: record.mailboxAddress,
      replyToGraphMessageId: request.replyToGraphMessageId || record.latestInboundGraphMessageId,
      replyMode: request.mode === ReplyMode.REPLY_MODE_UNSPECIFIED ? ReplyMode.REPLY_MODE_REPLY : request.mode,
      content: request.content,
      requestedBy: { kind: 2, id: agent.agentId, displayName: agent.agentName },
      allowAutomatedRecipient: false,
      completeAfterSend: request.completeAfterSend,
      ...(signature ? { signature } : {}),
    });
    const send: SendDocument = {
      sendId,
      interactionId: record.interactionId,
      mailboxId: record.mailboxId,
      state: SendState.SEND_STATE_ACCEPTED,
      requestedAt: now,
      request: OutboundRequest.toJSON(outbound),
      published: false,
      fingerprint,
    };
    // ACCEPTED is a promise once the send is stored: the router publishes it (the outbox), so the
    // answer never waits on Kafka and a bus outage delays the send instead of failing the call.
    return inReplySpan(record, sendId, async () => {
      const stored = await core.sendOutbox.record(agent.tenantId, key, send);
      if (stored && stored.sendId !== sendId && stored.fingerprint !== undefined && stored.fingerprint !== fingerprint)
        throw new IdempotencyKeyReusedError('reply');
      return { sendId: stored?.sendId ?? sendId, state: stored?.state ?? SendState.SEND_STATE_ACCEPTED };
    });
  }

  return { reply };
}
