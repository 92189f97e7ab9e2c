/**
 * The send engine: the exactly-once state machine of one outbound send (record, attempt, check an
 * ambiguous attempt, retry, finish), described at createSendEngine. Its steps share the attempt's
 * state and the failure classification, so it is one file, hence its size (over 400 lines).
 */
import { randomUUID } from 'node:crypto';
import { context, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  AutomationFlags,
  OutboundRequest,
  OutboundResult,
  ReplyMode,
  SendFailureReason,
  SendKind,
  SendState,
  type EmailAddress,
  type SendOrigin,
  type OutgoingMessage,
} from '@mailroute/contracts';
import {
  GraphMailError,
  internetHeaderProperty,
  isGraphMailError,
  mailboxKey,
  sanitizeMailHtml,
  type GraphDraft,
  type GraphDraftInput,
  type GraphMailClient,
  type GraphOutgoingAttachment,
  type GraphRecipient,
  type GraphSendClient,
  type MailboxSender,
  type StreamedAttachmentContent,
} from '@mailroute/graph-mail';
import { eventKey, events, toEventMessage, type EventBus } from '@mailroute/messaging';
import {
  inboundAttachmentBlobKey,
  isUploadId,
  referenceUpload,
  uploadBlobKey,
  type BlobStore,
  type ReplicaLiveness,
} from '@mailroute/persistence';
import { ClientError } from 'nice-grpc-common';
import {
  backoffDelayMs,
  contextFromStored,
  currentTraceContext,
  isRetryable,
  sleep,
  UnavailableError,
  validateOutgoingMessage,
  ValidationError,
  type Logger,
} from '@mailroute/platform';
import type { MailboxDirectory, SendingMailbox } from '../mailboxes/mailbox-directory';
import {
  dueKey,
  type FailureRecord,
  type OutboundSendStores,
  type SendRecord,
  type SentRecord,
} from '../store/outbound-send.stores';
import { acknowledgementHeaders } from '@mailroute/routing-engine';
import { automationOf, loopRefusal, sendIdHeader } from './loop-protection';
import { withSignature } from './signature-append';
import type { SendRateLimiter } from './send-rate-limiter';

/** Tunables of the send engine; every field has a default (defaultSendEngineOptions). */
export interface SendEngineOptions {
  /** A wait up to this long is slept inside the consumer; a longer one parks the send in the due table. Default 20 s. */
  inlineWaitMaxMs: number;
  /** An attempt marker older than this belongs to a crashed replica: its attempt counts as ambiguous. Default 180 s. */
  attemptStaleMs: number;
  /** Transient failures are retried this long after the request, then it fails RETRIES_EXHAUSTED (OUTCOME_UNKNOWN when it may have gone out). Default 24 h. */
  retryBudgetMs: number;
  /**
   * How long a send whose outcome is unknown stays CHECKING while the check (Sent Items, then the
   * draft) keeps failing, counted from the first failed check; then it ends OUTCOME_UNKNOWN. Default 1 h.
   */
  outcomeCheckBudgetMs: number;
  /** A send may wait this long for the mailbox's send rate limit before it fails SEND_RATE_EXCEEDED. Default 15 min. */
  rateMaxWaitMs: number;
  /**
   * First backoff after a transient failure (the project's backoff: doubles, equal jitter). Default 1 s:
   * a blip (a Graph 5xx, a token refresh) costs a reply about a second.
   */
  backoffBaseMs: number;
  /**
   * Cap of that backoff. Default 5 min: a send keeps trying through a long outage (up to
   * retryBudgetMs) at a few attempts an hour, well inside the mailbox's Graph budget.
   */
  backoffMaxMs: number;
  /** Sent Items are searched back to this long before the request was recorded. Default 10 min. */
  sentItemsLookbackMs: number;
  /** Tests only: pause after Graph accepted a send, before it is recorded (the crash window). Default 0. */
  pauseAfterSendMs: number;
  /** Sends driven at once by this process. Default 256. */
  maxConcurrentSends: number;
}

const defaultSendEngineOptions: SendEngineOptions = {
  inlineWaitMaxMs: 20_000,
  attemptStaleMs: 180_000,
  retryBudgetMs: 24 * 3600_000,
  outcomeCheckBudgetMs: 3600_000,
  rateMaxWaitMs: 15 * 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 300_000,
  sentItemsLookbackMs: 10 * 60_000,
  pauseAfterSendMs: 0,
  maxConcurrentSends: 256,
};

/** Final states as metric labels. */
export type FinalStateLabel = 'sent' | 'failed' | 'outcome-unknown';

export interface SendEngineEvents {
  /** `check-failed`: an attempt could not tell whether an earlier one went out (the send stays CHECKING). */
  onAttempt?(outcome: 'sent' | 'failed' | 'retry' | 'found-in-sent-items' | 'check-failed'): void;
  onFinal?(state: FinalStateLabel, latencyMs: number): void;
}

export interface SendEngineDeps {
  stores: OutboundSendStores;
  bus: EventBus;
  graph: GraphSendClient;
  /** Reads originals (loop protection) and inbound attachments; shares the limiter with `graph`. */
  mail: GraphMailClient;
  mailboxes: MailboxDirectory;
  rate: SendRateLimiter;
  logger: Logger;
  replicaId: string;
  /**
   * Liveness of the replicas (heartbeats in the store): a stranded attempt whose owner is known gone
   * is resolved at once instead of after `attemptStaleMs`. Without it only staleness decides.
   */
  liveness?: ReplicaLiveness;
  options?: Partial<SendEngineOptions>;
  clock?: () => number;
  events?: SendEngineEvents;
}

/** SENT, FAILED and OUTCOME_UNKNOWN end a send; nothing follows them. */
export const isFinalState = (state: number): boolean =>
  state === SendState.SEND_STATE_SENT || state === SendState.SEND_STATE_FAILED || state === SendState.SEND_STATE_OUTCOME_UNKNOWN;

type Step = 'original' | 'create-draft' | 'attachment' | 'send' | 'lookup';

type Outcome =
  | { kind: 'sent'; sent: SentRecord; foundInSentItems: boolean }
  | { kind: 'failed'; failure: FailureRecord }
  | { kind: 'retry'; failure: FailureRecord; waitMs: number; ambiguous: boolean }
  /** An earlier attempt may have sent and the check could not tell: check again after `waitMs`, send nothing. */
  | { kind: 'unknown'; failure: FailureRecord; waitMs: number };

/** What the check of an ambiguous attempt found. */
type Verdict =
  { kind: 'sent'; sent: SentRecord } | { kind: 'not-sent'; record: SendRecord } | { kind: 'unknown'; error: unknown };

/** A SendFailure record; `error` adds the Graph details of the last attempt. */
function failure(reason: SendFailureReason, message: string, error?: unknown, overridable = false): FailureRecord {
  const graph = isGraphMailError(error) ? error : undefined;
  return {
    reason,
    message: message.slice(0, 1024),
    graphErrorCode: graph?.graphCode.slice(0, 256) ?? '',
    httpStatus: graph?.status ?? 0,
    graphRequestId: graph?.requestId ?? '',
    overridable,
  };
}

/** The key of a send record. */
export const sendKey = (tenantId: string, sendId: string) => `${tenantId}/${sendId}`;

function toRecipients(list: readonly EmailAddress[]): GraphRecipient[] {
  return list.map((entry) => ({ emailAddress: { address: entry.address, ...(entry.name ? { name: entry.name } : {}) } }));
}

/** `base` plus `added`, without repeating an address (case-insensitive). */
function mergeRecipients(base: readonly GraphRecipient[] | null | undefined, added: readonly EmailAddress[]): GraphRecipient[] {
  const out = [...(base ?? [])];
  const seen = new Set(out.map((recipient) => recipient.emailAddress?.address?.toLowerCase()));
  for (const recipient of toRecipients(added)) {
    const address = recipient.emailAddress?.address?.toLowerCase();
    if (!seen.has(address)) {
      seen.add(address);
      out.push(recipient);
    }
  }
  return out;
}

const importanceNames: Record<number, GraphDraftInput['importance']> = { 1: 'low', 2: 'normal', 3: 'high' };

/**
 * The headers of an automatic acknowledgement (RFC 3834 and Exchange's suppression): `x-` names go in
 * `internetMessageHeaders`, the others as PS_INTERNET_HEADERS properties (Graph refuses them there).
 */
function automaticHeaders(automatic: boolean): Pick<GraphDraftInput, 'internetMessageHeaders' | 'singleValueExtendedProperties'> {
  if (!automatic) return { internetMessageHeaders: [] };
  return {
    internetMessageHeaders: acknowledgementHeaders.filter((header) => /^x-/i.test(header.name)),
    singleValueExtendedProperties: acknowledgementHeaders
      .filter((header) => !/^x-/i.test(header.name))
      .map((header) => internetHeaderProperty(header.name, header.value)),
  };
}

function draftContent(content: OutgoingMessage, sendId: string, automatic = false): GraphDraftInput {
  const importance = importanceNames[content.importance];
  const extra = automaticHeaders(automatic);
  return {
    ...(content.subject ? { subject: content.subject } : {}),
    // Whoever wrote it (an agent, an API client), HTML reaches the customer sanitized.
    body: content.bodyHtml
      ? { contentType: 'html', content: sanitizeMailHtml(content.bodyHtml, 'customer').html }
      : { contentType: 'text', content: content.bodyText },
    ...(importance ? { importance } : {}),
    internetMessageHeaders: [{ name: sendIdHeader, value: sendId }, ...(extra.internetMessageHeaders ?? [])],
    ...(extra.singleValueExtendedProperties ? { singleValueExtendedProperties: extra.singleValueExtendedProperties } : {}),
  };
}

/** Which events a request is refused for at intake (never sendable), as a failure. */
function intakeRefusal(request: OutboundRequest): FailureRecord | undefined {
  if (request.kind === SendKind.SEND_KIND_REPLY && !request.replyToGraphMessageId) {
    return failure(
      SendFailureReason.SEND_FAILURE_REASON_INTERACTION_NOT_FOUND,
      'The reply names no message to reply to (reply_to_graph_message_id is empty).',
    );
  }
  const issues = validateOutgoingMessage(request.content, request.kind);
  const first = issues[0];
  if (!first) return undefined;
  const injection = issues.find((issue) => issue.injection);
  if (injection)
    return failure(SendFailureReason.SEND_FAILURE_REASON_HEADER_INJECTION, `Refused: ${injection.field} ${injection.problem}.`);
  if (issues.some((issue) => /recipients/.test(issue.problem)))
    return failure(SendFailureReason.SEND_FAILURE_REASON_TOO_MANY_RECIPIENTS, `Refused: ${first.field} ${first.problem}.`);
  return failure(SendFailureReason.SEND_FAILURE_REASON_UNKNOWN, `Refused: ${first.field} ${first.problem}.`);
}

/** Checks an OutboundRequest event's envelope; a malformed one is a ValidationError (dead-lettered). */
function checkRequestEnvelope(request: OutboundRequest): void {
  if (!request.tenantId) throw new ValidationError('tenant_id', 'is required');
  if (!/^[\x21-\x7e]{1,64}$/.test(request.sendId) || request.sendId.includes('/'))
    throw new ValidationError('send_id', 'must be 1-64 printable ASCII characters without "/"');
  if (!request.mailboxId) throw new ValidationError('mailbox_id', 'is required');
  if (request.kind !== SendKind.SEND_KIND_REPLY && request.kind !== SendKind.SEND_KIND_NEW)
    throw new ValidationError('kind', 'must be REPLY or NEW');
}

/**
 * The send engine: records requests (unique insert on tenant + send id), then drives each to SENT
 * or FAILED through Graph draft + send, exactly once from the customer's side:
 *
 * 1. one attempt at a time across replicas (unique attempt markers);
 * 2. the draft carries `x-mailroute-send-id` and is recorded before it is sent; the record says
 *    SENDING while the send call is out;
 * 3. after an ambiguous failure (timeout, connection lost, 5xx on send, a crash while SENDING) the
 *    send is CHECKING: the next attempt first looks in Sent Items for the header, then at the draft
 *    itself (a sent draft keeps its immutable id in Sent Items), and only sends when they show it did
 *    not go out. A check that fails keeps it CHECKING (retried with the backoff); a send that may have
 *    gone out never ends FAILED, only SENT or, when the check never decides, OUTCOME_UNKNOWN.
 */
export function createSendEngine(deps: SendEngineDeps) {
  const options: SendEngineOptions = { ...defaultSendEngineOptions, ...deps.options };
  const clock = deps.clock ?? Date.now;
  const { stores, logger } = deps;
  const tracer = trace.getTracer('outbound-send');

  async function publishResult(record: SendRecord): Promise<void> {
    const request = OutboundRequest.fromJSON(record.request);
    const result = OutboundResult.fromPartial({
      eventId: randomUUID(),
      tenantId: record.tenantId,
      occurredAt: new Date(record.updatedAt),
      sendId: record.sendId,
      idempotencyKey: request.idempotencyKey,
      origin: record.origin,
      kind: request.kind,
      interactionId: request.interactionId,
      mailboxId: request.mailboxId,
      state: record.state,
      ...(record.failure ? { failure: record.failure } : {}),
      ...(record.sent ? { sent: { ...record.sent, sentAt: new Date(record.sent.sentAt) } } : {}),
      attempts: record.attempts,
      ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    });
    await deps.bus.publish(
      events.outboundResult.topic,
      toEventMessage('outboundResult', eventKey(record.tenantId, request.mailboxId), result),
    );
  }

  async function save(record: SendRecord): Promise<SendRecord> {
    await stores.sends.put(sendKey(record.tenantId, record.sendId), record);
    return record;
  }

  /**
   * Records the final state (once) and publishes it; a redelivery publishes it if that was lost.
   * `unknown`: the message may have gone out and the check could not tell — OUTCOME_UNKNOWN, never FAILED.
   */
  async function finish(
    record: SendRecord,
    outcome: { sent: SentRecord } | { failure: FailureRecord } | { unknown: FailureRecord },
  ): Promise<SendRecord> {
    const now = clock();
    const state =
      'sent' in outcome
        ? SendState.SEND_STATE_SENT
        : 'unknown' in outcome
          ? SendState.SEND_STATE_OUTCOME_UNKNOWN
          : SendState.SEND_STATE_FAILED;
    const final: SendRecord = {
      ...record,
      state,
      sent: 'sent' in outcome ? outcome.sent : undefined,
      failure: 'failure' in outcome ? outcome.failure : 'unknown' in outcome ? outcome.unknown : undefined,
      nextAttemptAt: undefined,
      updatedAt: now,
    };
    // Published before it is recorded, in one write with the marker: a crash in between re-decides
    // the send (through Sent Items) and publishes the same final state again, which consumers allow.
    await publishResult(final);
    await save({ ...final, publishedState: final.state });
    deps.events?.onFinal?.(
      state === SendState.SEND_STATE_SENT ? 'sent' : state === SendState.SEND_STATE_FAILED ? 'failed' : 'outcome-unknown',
      now - record.createdAt,
    );
    return final;
  }

  /** The failure an OUTCOME_UNKNOWN send ends with: why the check could not decide, with the last check's Graph details. */
  function unknownFailure(record: SendRecord, why: string): FailureRecord {
    const last = record.failure;
    return {
      ...(last ?? failure(SendFailureReason.SEND_FAILURE_REASON_OUTCOME_CHECK_FAILED, '')),
      reason: SendFailureReason.SEND_FAILURE_REASON_OUTCOME_CHECK_FAILED,
      message:
        `${why}: the message may have been sent; look in the mailbox's Sent Items before sending it again. Last: ${last?.message ?? 'none'}`.slice(
          0,
          1024,
        ),
    };
  }

  async function ensurePublished(record: SendRecord): Promise<void> {
    if (record.publishedState === record.state) return;
    await publishResult(record);
    await save({ ...record, publishedState: record.state });
  }

  /**
   * Records a request unless its send id is known (then returns the stored record unchanged).
   * A request that can never be sent is recorded FAILED at once, with its reason.
   */
  async function intake(request: OutboundRequest, origin: SendOrigin, extra: Partial<SendRecord> = {}): Promise<SendRecord> {
    checkRequestEnvelope(request);
    const key = sendKey(request.tenantId, request.sendId);
    const now = clock();
    // Inline bytes are kept apart: the send record is read and written at every step.
    const attachments = request.content?.attachments ?? [];
    for (const [index, attachment] of attachments.entries()) {
      if (attachment.source?.$case === 'content')
        await stores.contents.put(`${key}/${index}`, { contentBase64: Buffer.from(attachment.source.value).toString('base64') });
      // An upload this send needs is kept past its own expiry for as long as the send may retry.
      if (attachment.source?.$case === 'uploadId')
        await referenceUpload(stores.blobs, request.tenantId, attachment.source.value, new Date(now));
    }
    const traceContext = currentTraceContext();
    const stored = request.content
      ? {
          ...request,
          content: {
            ...request.content,
            attachments: attachments.map((attachment) =>
              attachment.source?.$case === 'content' ? { ...attachment, source: undefined } : attachment,
            ),
          },
        }
      : request;
    const record: SendRecord = {
      tenantId: request.tenantId,
      sendId: request.sendId,
      request: OutboundRequest.toJSON(stored),
      origin,
      state: SendState.SEND_STATE_ACCEPTED,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
      ...(traceContext ? { traceContext } : {}),
      ...extra,
    };
    if (!(await stores.sends.insert(key, record))) return (await stores.sends.get(key)) ?? record;
    const refusal = intakeRefusal(request);
    if (refusal) return finish(record, { failure: refusal });
    return record;
  }

  /** The wait before retry `attempt` of a send or of its outcome check: the project's one backoff. */
  function backoff(attempt: number): number {
    return backoffDelayMs(attempt, { initialDelayMs: options.backoffBaseMs, maxDelayMs: options.backoffMaxMs });
  }

  /** `failures`: transient failures in a row so far (throttling excluded: its Retry-After decides). */
  function classify(error: unknown, step: Step, failures: number): Outcome {
    const retry = (message: string, waitMs: number, ambiguous: boolean): Outcome => ({
      kind: 'retry',
      failure: failure(SendFailureReason.SEND_FAILURE_REASON_TRANSIENT, message, error),
      waitMs,
      ambiguous,
    });
    const failed = (reason: SendFailureReason, message: string): Outcome => ({
      kind: 'failed',
      failure: failure(reason, message, error),
    });
    if (error instanceof GraphMailError) {
      switch (error.kind) {
        case 'throttled':
          // A 429 refused the request: nothing was sent.
          return retry('Graph throttled the mailbox; retrying after its Retry-After.', error.retryAfterMs ?? 1_000, false);
        case 'unavailable':
          return retry(
            `Graph was unavailable (${error.status || 'network'}); retrying.`,
            Math.max(backoff(failures + 1), error.retryAfterMs ?? 0),
            step === 'send',
          );
        case 'unauthorized':
          return failed(
            SendFailureReason.SEND_FAILURE_REASON_AUTH_FAILED,
            'Graph rejected the access token even after a refresh; check the tenant credentials (auth-broker diagnosis).',
          );
        case 'outside-access-policy':
          return failed(
            SendFailureReason.SEND_FAILURE_REASON_MAILBOX_OUTSIDE_ACCESS_POLICY,
            'The mailbox is outside the app\'s Exchange application access policy (Graph: "Access to OData is disabled.").',
          );
        case 'access-denied':
          // A delegate's send from a mailbox not their own needs Send As or Send on Behalf on it.
          if (error.graphCode === 'ErrorSendAsDenied')
            return failed(
              SendFailureReason.SEND_FAILURE_REASON_MAIL_SEND_NOT_GRANTED,
              'Exchange refuses to send from this mailbox as the signed-in delegate (ErrorSendAsDenied): the user who signed in for it has no Send As or Send on Behalf permission on it. In Exchange: Add-RecipientPermission -Identity <mailbox> -Trustee <signed-in user> -AccessRights SendAs, then send again.',
            );
          return failed(
            SendFailureReason.SEND_FAILURE_REASON_MAIL_SEND_NOT_GRANTED,
            step === 'send'
              ? 'The app is not granted Mail.Send for this mailbox (or consent is missing).'
              : 'The app may not write drafts in this mailbox (Mail.ReadWrite and Mail.Send are needed).',
          );
        case 'mailbox-not-found':
          return failed(SendFailureReason.SEND_FAILURE_REASON_MAILBOX_NOT_FOUND, 'Graph does not find the sending mailbox.');
        case 'not-found':
          if (step === 'original')
            return failed(
              SendFailureReason.SEND_FAILURE_REASON_ORIGINAL_MESSAGE_NOT_FOUND,
              'The message to reply to no longer exists in the mailbox.',
            );
          if (step === 'attachment')
            return failed(
              SendFailureReason.SEND_FAILURE_REASON_ATTACHMENT_NOT_FOUND,
              'An attachment to send on no longer exists.',
            );
          return retry('The draft disappeared; retrying.', backoff(failures + 1), step === 'send');
        default:
          break;
      }
      if (error.graphCode === 'ErrorInvalidRecipients')
        return failed(
          SendFailureReason.SEND_FAILURE_REASON_INVALID_RECIPIENT,
          `Exchange rejected a recipient: ${error.message.replace(/^graph: [^:]*: /, '')}`,
        );
      if (error.graphCode === 'ErrorTooManyRecipients')
        return failed(
          SendFailureReason.SEND_FAILURE_REASON_TOO_MANY_RECIPIENTS,
          'The message has more recipients than Exchange allows (500).',
        );
      if (
        error.graphCode === 'ErrorMessageSizeExceeded' ||
        error.graphCode === 'ErrorAttachmentSizeLimitExceeded' ||
        error.status === 413
      ) {
        return failed(
          SendFailureReason.SEND_FAILURE_REASON_MESSAGE_TOO_LARGE,
          'The message is larger than the mailbox may send (Exchange MaxSendSize).',
        );
      }
      return failed(
        SendFailureReason.SEND_FAILURE_REASON_UNKNOWN,
        `Graph refused the ${step} step: ${error.graphCode || error.status}.`,
      );
    }
    if (isRetryable(error))
      return retry(
        `A dependency was unavailable (${(error as Error).message}); retrying.`,
        backoff(failures + 1),
        step === 'send',
      );
    if (error instanceof ClientError) {
      // A gRPC error from auth-broker (retryable ones were handled above): no token for this mailbox.
      return failed(SendFailureReason.SEND_FAILURE_REASON_AUTH_FAILED, `No access token for the mailbox: ${error.message}`);
    }
    logger.error({ err: error, step }, 'outbound-send: unclassified failure');
    return failed(
      SendFailureReason.SEND_FAILURE_REASON_UNKNOWN,
      'An unexpected error stopped the send; see the outbound-send log.',
    );
  }

  async function automationFor(request: OutboundRequest, mailbox: SendingMailbox): Promise<AutomationFlags | undefined> {
    const known = await stores.interactions.get(`${request.tenantId}/${request.interactionId}`);
    if (known && known.latestGraphMessageId === request.replyToGraphMessageId && known.automation)
      return AutomationFlags.fromJSON(known.automation);
    const original = await deps.mail.mailbox(mailbox.target).getMessage(request.replyToGraphMessageId);
    return automationOf(original);
  }

  async function attachmentContent(
    request: OutboundRequest,
    mailbox: SendingMailbox,
    index: number,
  ): Promise<GraphOutgoingAttachment['content'] | FailureRecord> {
    const source = request.content?.attachments[index]?.source;
    if (!source || source.$case === 'content') {
      const stored = await stores.contents.get(`${sendKey(request.tenantId, request.sendId)}/${index}`);
      if (stored) return Buffer.from(stored.contentBase64, 'base64');
      if (source) return Buffer.from(source.value);
      return failure(
        SendFailureReason.SEND_FAILURE_REASON_ATTACHMENT_NOT_FOUND,
        `The content of attachment ${index + 1} is not stored.`,
      );
    }
    if (source?.$case === 'inbound') {
      // Stored by mailbox-fetch (the blob store); Graph only for mail ingested before it stored content.
      const stored = await blobContent(
        stores.blobs,
        inboundAttachmentBlobKey(request.tenantId, source.value.graphMessageId, source.value.attachmentId),
      );
      if (stored) return stored;
      const attachment = await deps.mail
        .mailbox(mailbox.target)
        .getAttachment(source.value.graphMessageId, source.value.attachmentId);
      if (!attachment.contentBytes)
        return failure(
          SendFailureReason.SEND_FAILURE_REASON_ATTACHMENT_NOT_FOUND,
          `Attachment ${index + 1} is not a file with content.`,
        );
      return Buffer.from(attachment.contentBytes, 'base64');
    }
    const upload = isUploadId(source.value)
      ? await blobContent(stores.blobs, uploadBlobKey(request.tenantId, source.value))
      : undefined;
    return (
      upload ??
      failure(
        SendFailureReason.SEND_FAILURE_REASON_ATTACHMENT_NOT_FOUND,
        `The upload of attachment ${index + 1} expired or was never completed.`,
      )
    );
  }

  function draftFields(draft: GraphDraft): Partial<SendRecord> {
    return {
      draftId: draft.id,
      draftReady: false,
      draftInternetMessageId: draft.internetMessageId ?? '',
      draftConversationId: draft.conversationId ?? '',
    };
  }

  function located(message: GraphDraft, fallbackId: string, now: number): SentRecord {
    return {
      graphMessageId: message.id || fallbackId,
      internetMessageId: message.internetMessageId ?? '',
      conversationId: message.conversationId ?? '',
      sentAt: message.sentDateTime ? Date.parse(message.sentDateTime) : now,
    };
  }

  /**
   * Whether an ambiguous earlier attempt went out. Never throws: a check that fails, transiently or
   * not, leaves the outcome unknown (never FAILED — the message may be with the customer).
   * 1. Sent Items, searched for the send id header; 2. whatever 1 answered, the draft by its
   * immutable id: a sent draft keeps it with isDraft false (proves SENT); a draft still a draft
   * proves it did not go out (Exchange sends a draft at most once, so sending it again is safe);
   * a draft that is gone proves nothing unless the Sent Items search answered (then: start over).
   */
  async function checkOutcome(record: SendRecord, sender: MailboxSender): Promise<Verdict> {
    let lookupError: unknown;
    try {
      const found = await sender.findSentWithHeader(sendIdHeader, record.sendId, record.createdAt - options.sentItemsLookbackMs);
      if (found) return { kind: 'sent', sent: located(found, found.id, clock()) };
    } catch (error) {
      lookupError = error;
      logger.warn(
        { sendId: record.sendId, err: error },
        'outbound-send: Sent Items lookup failed; checking the draft by its immutable id',
      );
    }
    if (!record.draftId)
      return lookupError === undefined ? { kind: 'not-sent', record } : { kind: 'unknown', error: lookupError };
    let draft: GraphDraft | undefined;
    try {
      draft = await sender.getMessage(record.draftId);
    } catch (error) {
      if (!isGraphMailError(error, 'not-found')) return { kind: 'unknown', error };
    }
    if (draft && draft.isDraft === false) return { kind: 'sent', sent: located(draft, record.draftId, clock()) };
    if (draft) return { kind: 'not-sent', record };
    if (lookupError !== undefined) return { kind: 'unknown', error: lookupError };
    return { kind: 'not-sent', record: { ...record, draftId: undefined, draftReady: false } };
  }

  /** The outcome of a check that could not decide: check again after the backoff (or Graph's Retry-After). */
  function undecided(error: unknown, failures: number): Outcome {
    const throttled = isGraphMailError(error, 'throttled');
    const waitMs = throttled
      ? (error.retryAfterMs ?? 1_000)
      : Math.max(backoff(failures + 1), isGraphMailError(error) ? (error.retryAfterMs ?? 0) : 0);
    const detail = isGraphMailError(error)
      ? `${error.graphCode || error.status || 'network'}`
      : error instanceof Error
        ? error.message
        : String(error);
    return {
      kind: 'unknown',
      failure: failure(
        SendFailureReason.SEND_FAILURE_REASON_OUTCOME_CHECK_FAILED,
        `An earlier attempt may have sent this message; checking Sent Items and the draft failed (${detail}); checking again.`,
        error,
      ),
      waitMs,
    };
  }

  /** One attempt; persists the draft id and SENDING before the send call. */
  async function attempt(
    start: SendRecord,
    request: OutboundRequest,
    mailbox: SendingMailbox,
  ): Promise<{ outcome: Outcome; record: SendRecord }> {
    let record = start;
    let step: Step = 'lookup';
    const sender: MailboxSender = deps.graph.mailbox(mailbox.target);
    const content = withSignature(request.content as OutgoingMessage, request.signature);
    if (record.ambiguous) {
      const verdict = await checkOutcome(record, sender);
      if (verdict.kind === 'sent') return { outcome: { kind: 'sent', sent: verdict.sent, foundInSentItems: true }, record };
      if (verdict.kind === 'unknown') return { outcome: undecided(verdict.error, record.transientFailures ?? 0), record };
      record = { ...verdict.record, ambiguous: false, checkingSince: undefined };
    }
    try {
      if (request.kind === SendKind.SEND_KIND_REPLY && !request.allowAutomatedRecipient && !record.loopChecked) {
        step = 'original';
        const refusal = loopRefusal(await automationFor(request, mailbox), request.automatic);
        if (refusal) {
          return {
            outcome: {
              kind: 'failed',
              failure: failure(
                SendFailureReason.SEND_FAILURE_REASON_LOOP_PROTECTION,
                `Not sent: ${refusal}. A supervisor may override (allow_automated_recipient).`,
                undefined,
                true,
              ),
            },
            record,
          };
        }
        record = { ...record, loopChecked: true };
      }
      if (record.draftId && !record.draftReady) {
        // An incomplete draft of an earlier attempt: never send it, start over.
        await sender.deleteMessage(record.draftId).catch(() => undefined);
        record = { ...record, draftId: undefined };
      }
      if (!record.draftId) {
        step = request.kind === SendKind.SEND_KIND_REPLY ? 'original' : 'create-draft';
        let draft: GraphDraft;
        if (request.kind === SendKind.SEND_KIND_REPLY) {
          draft = await sender.createReplyDraft(
            request.replyToGraphMessageId,
            request.replyMode === ReplyMode.REPLY_MODE_REPLY_ALL,
            draftContent(content, record.sendId, request.automatic),
          );
          record = await save({ ...record, ...draftFields(draft), updatedAt: clock() });
          step = 'create-draft';
          if (content.to.length + content.cc.length + content.bcc.length > 0) {
            await sender.updateDraft(draft.id, {
              ...(content.to.length ? { toRecipients: mergeRecipients(draft.toRecipients, content.to) } : {}),
              ...(content.cc.length ? { ccRecipients: mergeRecipients(draft.ccRecipients, content.cc) } : {}),
              ...(content.bcc.length ? { bccRecipients: mergeRecipients(draft.bccRecipients, content.bcc) } : {}),
            });
          }
        } else {
          draft = await sender.createDraft({
            ...draftContent(content, record.sendId, request.automatic),
            toRecipients: toRecipients(content.to),
            ccRecipients: toRecipients(content.cc),
            bccRecipients: toRecipients(content.bcc),
          });
          record = await save({ ...record, ...draftFields(draft), updatedAt: clock() });
        }
        step = 'attachment';
        for (const [index, attachment] of content.attachments.entries()) {
          const bytes = await attachmentContent(request, mailbox, index);
          if (isFailure(bytes)) return { outcome: { kind: 'failed', failure: bytes }, record };
          await sender.addAttachment(draft.id, {
            name: attachment.name,
            contentType: attachment.contentType || 'application/octet-stream',
            content: bytes,
            isInline: attachment.isInline,
            contentId: attachment.contentId || undefined,
          });
        }
        record = { ...record, draftReady: true };
      }
      // Fresh = the acknowledged heartbeat lives for half its TTL more: a Graph send started now ends well inside it.
      if (deps.liveness && !deps.liveness.alive(clock(), deps.liveness.ttlMs / 2)) {
        // This replica could not renew its heartbeat: another replica may soon take the attempt over. Not now.
        throw new UnavailableError('the replica heartbeat is not recent; not sending now');
      }
      step = 'send';
      record = await save({ ...record, state: SendState.SEND_STATE_SENDING, updatedAt: clock() });
      await sender.send(record.draftId as string);
    } catch (error) {
      if (
        step === 'send' &&
        isGraphMailError(error) &&
        (error.kind === 'rejected' || error.kind === 'not-found') &&
        record.draftId
      ) {
        // "Only draft messages can be sent": an earlier, ambiguous send of this draft went out meanwhile.
        let draft: GraphDraft | undefined;
        try {
          draft = await sender.getMessage(record.draftId);
        } catch (checkError) {
          if (!isGraphMailError(checkError, 'not-found')) {
            // Undecided (the check itself failed): never fail a send that may have gone out; look again next attempt.
            return {
              outcome: {
                kind: 'retry',
                failure: failure(
                  SendFailureReason.SEND_FAILURE_REASON_TRANSIENT,
                  'The send was refused and the draft could not be checked; retrying.',
                  checkError,
                ),
                waitMs: backoff((record.transientFailures ?? 0) + 1),
                ambiguous: true,
              },
              record,
            };
          }
        }
        if (draft && draft.isDraft === false)
          return { outcome: { kind: 'sent', sent: located(draft, record.draftId, clock()), foundInSentItems: true }, record };
      }
      return { outcome: classify(error, step, record.transientFailures ?? 0), record };
    }
    if (options.pauseAfterSendMs > 0) await sleep(options.pauseAfterSendMs);
    // The draft keeps its immutable id, Message-ID and conversation in Sent Items.
    const draftId = record.draftId as string;
    const copy: GraphDraft = {
      id: draftId,
      internetMessageId: record.draftInternetMessageId ?? '',
      conversationId: record.draftConversationId ?? '',
    };
    return { outcome: { kind: 'sent', sent: located(copy, draftId, clock()), foundInSentItems: false }, record };
  }

  /**
   * Drives one send until it is final, or parked in the due table for a wait longer than
   * `inlineWaitMaxMs`. Throws a retryable UnavailableError while another replica holds the attempt.
   */
  const active = new Set<string>();

  async function drive(tenantId: string, sendId: string, signal?: AbortSignal): Promise<SendRecord | undefined> {
    const key = sendKey(tenantId, sendId);
    // Driven here already (the due pump and a redelivery can meet): that drive finishes or parks it.
    if (active.has(key)) return stores.sends.get(key);
    active.add(key);
    try {
      // The send's work (attempts, Graph calls, results) belongs to the trace of its intake, whoever drives it.
      const traceContext = (await stores.sends.get(key))?.traceContext;
      const parent = traceContext ? contextFromStored(traceContext) : context.active();
      return await context.with(parent, () => driveLoop(tenantId, sendId, key, signal));
    } finally {
      active.delete(key);
    }
  }

  async function driveLoop(tenantId: string, sendId: string, key: string, signal?: AbortSignal): Promise<SendRecord | undefined> {
    for (;;) {
      let record = await stores.sends.get(key);
      if (!record) return undefined;
      if (isFinalState(record.state)) {
        await ensurePublished(record);
        return record;
      }
      const request = OutboundRequest.fromJSON(record.request);
      const now = clock();
      if (record.ambiguous && record.checkingSince !== undefined && now - record.checkingSince > options.outcomeCheckBudgetMs) {
        return finish(record, {
          unknown: unknownFailure(
            record,
            `Whether the message went out could not be checked for ${Math.round(options.outcomeCheckBudgetMs / 60_000)} minutes`,
          ),
        });
      }
      if (now - record.createdAt > options.retryBudgetMs) {
        // May have gone out: never FAILED.
        if (record.ambiguous)
          return finish(record, {
            unknown: unknownFailure(
              record,
              `The retry budget of ${Math.round(options.retryBudgetMs / 60_000)} minutes ran out while the outcome was unknown`,
            ),
          });
        return finish(record, {
          failure: {
            ...(record.failure ?? failure(SendFailureReason.SEND_FAILURE_REASON_RETRIES_EXHAUSTED, '')),
            reason: SendFailureReason.SEND_FAILURE_REASON_RETRIES_EXHAUSTED,
            message: `Transient failures did not clear within ${Math.round(options.retryBudgetMs / 60_000)} minutes. Last: ${record.failure?.message ?? 'none'}`,
          },
        });
      }
      if (record.nextAttemptAt && record.nextAttemptAt > now) {
        const wait = record.nextAttemptAt - now;
        if (wait > options.inlineWaitMaxMs) {
          await stores.due.put(dueKey(record.nextAttemptAt, tenantId, sendId), { tenantId, sendId });
          return record;
        }
        await sleep(wait, signal);
        if (signal?.aborted) throw new UnavailableError('stopping');
        continue;
      }
      const mailbox = await deps.mailboxes.get(tenantId, request.mailboxId);
      if (!mailbox) {
        const missing = failure(
          SendFailureReason.SEND_FAILURE_REASON_MAILBOX_NOT_FOUND,
          `The mailbox ${JSON.stringify(request.mailboxId)} is not configured (or disabled) in mailbox-fetch.`,
        );
        // Removed while an attempt's outcome was unknown: it may have gone out, and there is nothing left to check with.
        return finish(
          record,
          record.ambiguous || record.state === SendState.SEND_STATE_SENDING
            ? { unknown: { ...missing, reason: SendFailureReason.SEND_FAILURE_REASON_OUTCOME_CHECK_FAILED } }
            : { failure: missing },
        );
      }
      const number = record.attempts + 1;
      const markerKey = `${key}/${number}`;
      // The attempt marker first, the send slot after: a try that cannot proceed (another replica
      // holds the attempt) takes no slot from the mailbox's send rate limit.
      if (
        !(await stores.attempts.insert(markerKey, {
          owner: deps.replicaId,
          at: now,
          ...(deps.liveness ? { instance: deps.liveness.incarnation } : {}),
        }))
      ) {
        const holder = await stores.attempts.get(markerKey);
        if (!holder) continue; // released meanwhile (its owner waits for a send slot): look again
        const ownerGone =
          holder.owner === deps.replicaId || (await deps.liveness?.isGone(holder.owner, holder.instance, now)) === true;
        if (!ownerGone && now - holder.at < options.attemptStaleMs) {
          throw new UnavailableError(`send ${sendId}: attempt ${number} is in progress on ${holder.owner}`, {
            retryAfterMs: 1_000,
          });
        }
        // Its owner died (or this replica restarted) mid-attempt: that attempt may have sent.
        logger.info(
          { sendId, attempt: number, owner: holder.owner, ownerGone },
          'outbound-send: resolving an attempt its owner left unfinished',
        );
        await save({ ...record, attempts: number, ambiguous: true, updatedAt: now });
        continue;
      }
      const rateWait =
        record.ambiguous || record.state === SendState.SEND_STATE_SENDING
          ? 0
          : deps.rate.tryTake(mailboxKey(mailbox.target), now);
      if (rateWait > 0) {
        // Not attempted: free the marker for whoever drives the send when the slot is there.
        await stores.attempts.delete(markerKey);
        if (now + rateWait - record.createdAt > options.rateMaxWaitMs) {
          return finish(record, {
            failure: failure(
              SendFailureReason.SEND_FAILURE_REASON_SEND_RATE_EXCEEDED,
              `The mailbox's send rate limit kept this message waiting longer than ${Math.round(options.rateMaxWaitMs / 1000)} s.`,
            ),
          });
        }
        await save({ ...record, nextAttemptAt: now + rateWait, updatedAt: now });
        continue;
      }
      // A record left SENDING means a crash between the send call and its result.
      record = { ...record, attempts: number, ambiguous: record.ambiguous || record.state === SendState.SEND_STATE_SENDING };
      const { outcome, record: after } = await tracer.startActiveSpan(
        'outbound-send.attempt',
        {
          attributes: {
            'mailroute.send_id': sendId,
            'mailroute.attempt': number,
            'mailroute.ambiguous': record.ambiguous === true,
          },
        },
        async (span) => {
          try {
            const result = await attempt(record as SendRecord, request, mailbox);
            span.setAttribute('mailroute.outcome', result.outcome.kind);
            if (result.outcome.kind !== 'sent')
              span.setStatus({ code: SpanStatusCode.ERROR, message: result.outcome.failure.message });
            return result;
          } finally {
            span.end();
          }
        },
      );
      deps.events?.onAttempt?.(
        outcome.kind === 'sent' && outcome.foundInSentItems
          ? 'found-in-sent-items'
          : outcome.kind === 'unknown'
            ? 'check-failed'
            : outcome.kind,
      );
      if (outcome.kind === 'sent')
        return finish({ ...after, ambiguous: false, checkingSince: undefined }, { sent: outcome.sent });
      if (outcome.kind === 'failed') return finish(after, { failure: outcome.failure });
      const ambiguous = after.ambiguous === true || (outcome.kind === 'retry' && outcome.ambiguous);
      logger.info(
        { sendId, attempt: number, waitMs: outcome.waitMs, ambiguous, reason: outcome.failure.message },
        outcome.kind === 'unknown'
          ? 'outbound-send: could not check whether an earlier attempt went out'
          : 'outbound-send: attempt failed transiently',
      );
      const throttled = outcome.failure.httpStatus === 429;
      const retrying = await save({
        ...after,
        transientFailures: throttled ? (after.transientFailures ?? 0) : (after.transientFailures ?? 0) + 1,
        // The outcome is unknown: CHECKING until a check decides it (nothing is sent meanwhile).
        state: ambiguous ? SendState.SEND_STATE_CHECKING : SendState.SEND_STATE_RETRYING,
        failure: outcome.failure,
        ambiguous,
        checkingSince: outcome.kind === 'unknown' ? (after.checkingSince ?? clock()) : after.checkingSince,
        nextAttemptAt: clock() + outcome.waitMs,
        updatedAt: clock(),
      });
      await publishResult(retrying);
    }
  }

  const stopping = new AbortController();
  let pumping: Promise<void> | undefined;
  let pumpAgain = false;
  let moreDue = false;

  /**
   * Starts drives for due entries (parked and newly accepted sends), up to `maxConcurrentSends`
   * in this process. An entry is deleted only after its drive returned (final, or parked again
   * under a later key), so a crash leaves it for the next scan of any replica.
   */
  function pump(): Promise<void> {
    if (pumping) {
      pumpAgain = true;
      return pumping;
    }
    pumping = (async () => {
      do {
        if (stopping.signal.aborted) break;
        pumpAgain = false;
        const free = options.maxConcurrentSends - active.size;
        if (free <= 0) break;
        const limit = Math.min(200, free + active.size);
        const entries = await stores.due.list({ prefix: '', limit });
        const horizon = dueKey(clock(), '', '');
        // Only a full page or the concurrency cap can leave due entries unseen: then a finished drive scans again.
        moreDue = entries.length === limit;
        for (const entry of entries) {
          if (entry.key > horizon) break;
          if (active.has(sendKey(entry.document.tenantId, entry.document.sendId))) continue;
          if (active.size >= options.maxConcurrentSends) {
            moreDue = true;
            break;
          }
          // Not in the context of whichever consumer started this scan: drive() picks the send's own trace.
          void context
            .with(ROOT_CONTEXT, () => drive(entry.document.tenantId, entry.document.sendId, stopping.signal))
            .then(() => stores.due.delete(entry.key))
            .catch((error: unknown) =>
              logger.warn(
                { err: error, sendId: entry.document.sendId },
                'outbound-send: send not driven now; its due entry stays',
              ),
            )
            .finally(() => {
              if (moreDue) void pump().catch(() => undefined);
            });
        }
      } while (pumpAgain);
    })().finally(() => {
      pumping = undefined;
    });
    return pumping;
  }

  /** Queues a recorded send for driving now (durably: the due entry survives a crash). */
  async function enqueue(tenantId: string, sendId: string): Promise<void> {
    await stores.due.put(dueKey(clock(), tenantId, sendId), { tenantId, sendId });
    void pump().catch((error: unknown) => logger.warn({ err: error }, 'outbound-send: due scan failed'));
  }

  /** Stops starting drives, aborts their waits and gives the ones inside a Graph call `graceMs` to finish. */
  async function close(graceMs = 10_000): Promise<void> {
    stopping.abort();
    const deadline = clock() + graceMs;
    while (active.size > 0 && clock() < deadline) await sleep(50);
  }

  return { intake, drive, enqueue, pump, close, publishResult, options, activeCount: () => active.size };
}

export type SendEngine = ReturnType<typeof createSendEngine>;

/**
 * A stored blob as attachment content read while it is sent (an upload session takes it piece by piece,
 * so a 150 MB attachment is never held whole); undefined when it is not stored.
 */
async function blobContent(blobs: BlobStore, key: string): Promise<StreamedAttachmentContent | undefined> {
  const info = await blobs.stat(key);
  return info ? { sizeBytes: info.sizeBytes, read: () => blobs.read(key) } : undefined;
}

const isFailure = (content: GraphOutgoingAttachment['content'] | FailureRecord): content is FailureRecord =>
  !Buffer.isBuffer(content) && !('read' in content);
