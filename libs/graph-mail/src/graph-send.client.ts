import { createFencedGraphClient } from './request-fence';
import type { Logger } from '@mailroute/platform';
import { classifyGraphError, GraphMailError } from './errors';
import {
  throttleEventOf,
  type GraphInternetMessageHeader,
  type GraphRecipient,
  type GraphThrottleObserver,
  type GraphTokenProvider,
  type MailboxTarget,
} from './graph-mail.types';
import { createMailboxLimiter, type MailboxLimiter } from './mailbox-limiter';
import { createMailboxCall, defaultGraphRequestTimeoutMs, mailboxKey, preferImmutable, type MailboxCall } from './mailbox-call';

/** Graph accepts a file attachment in one POST only below 3 MB; anything larger needs an upload session. */
const defaultInlineAttachmentMaxBytes = 3_000_000;

/** Graph's upload-session chunks must be multiples of 320 KiB; 10 chunks per PUT (3.2 MiB) keeps requests small. */
const uploadChunkBytes = 320 * 1024 * 10;

/** Writable message fields of a draft (create, createReply's `message`, PATCH). */
export interface GraphDraftInput {
  subject?: string;
  body?: { contentType: 'html' | 'text'; content: string };
  toRecipients?: GraphRecipient[];
  ccRecipients?: GraphRecipient[];
  bccRecipients?: GraphRecipient[];
  importance?: 'low' | 'normal' | 'high';
  /** Only at creation; names must start with `x-`. */
  internetMessageHeaders?: GraphInternetMessageHeader[];
  /** MAPI properties; see internetHeaderProperty for headers Graph refuses in `internetMessageHeaders`. */
  singleValueExtendedProperties?: { id: string; value: string }[];
}

/**
 * A transport header Graph will not take in `internetMessageHeaders` (only `x-` names are allowed
 * there), such as RFC 3834's `Auto-Submitted`: a named string property in the PS_INTERNET_HEADERS
 * property set, which Exchange writes into the message's MIME header when it sends it.
 */
export function internetHeaderProperty(name: string, value: string): { id: string; value: string } {
  return { id: `String {00020386-0000-0000-C000-000000000046} Name ${name}`, value };
}

/** A draft or sent message as the send operations read it back. */
export interface GraphDraft {
  id: string;
  isDraft?: boolean | null;
  internetMessageId?: string | null;
  conversationId?: string | null;
  subject?: string | null;
  toRecipients?: GraphRecipient[] | null;
  ccRecipients?: GraphRecipient[] | null;
  bccRecipients?: GraphRecipient[] | null;
  sentDateTime?: string | null;
  internetMessageHeaders?: GraphInternetMessageHeader[] | null;
}

/**
 * Attachment content read as it is sent, never held whole (a blob in the store): its size, and a fresh
 * read from the start each time `read` is called.
 */
export interface StreamedAttachmentContent {
  sizeBytes: number;
  read(): AsyncIterable<Uint8Array>;
}

export interface GraphOutgoingAttachment {
  name: string;
  contentType: string;
  /** Up to 3 MB it is posted whole (collected first when streamed); above, sent through an upload session piece by piece. */
  content: Buffer | StreamedAttachmentContent;
  isInline: boolean;
  contentId?: string | undefined;
}

export interface GraphSendClientOptions {
  tokens: GraphTokenProvider;
  /** Shared with every Graph client of the process (outbound-send: 1 request per mailbox). */
  limiter?: MailboxLimiter;
  /** Per-request timeout. Default 30 s. A send that times out is ambiguous: it may have gone out. */
  requestTimeoutMs?: number;
  /** Attachments up to this size are POSTed whole; larger ones go through an upload session. Default 3,000,000. */
  inlineAttachmentMaxBytes?: number;
  logger?: Logger;
  clock?: () => number;
  /** Sees every throttling answer (429, 503 with Retry-After), e.g. for metrics. */
  onThrottled?: GraphThrottleObserver;
}

/**
 * Draft-and-send operations on one mailbox. Every call is ONE attempt (plus one retry with a
 * fresh token after a 401): a send must not be retried blindly, so retries are the caller's
 * decision. A 429 pauses the mailbox in the shared limiter for its Retry-After before the
 * classified error is thrown.
 */
export interface MailboxSender {
  readonly target: MailboxTarget;
  /** createReply / createReplyAll: a draft in the original's conversation (In-Reply-To/References set by Exchange). */
  createReplyDraft(originalMessageId: string, all: boolean, message: GraphDraftInput): Promise<GraphDraft>;
  /** A new draft in Drafts. */
  createDraft(message: GraphDraftInput): Promise<GraphDraft>;
  updateDraft(draftId: string, changes: GraphDraftInput): Promise<GraphDraft>;
  /** Adds a file attachment: one POST up to the inline limit, else an upload session in chunks. */
  addAttachment(draftId: string, attachment: GraphOutgoingAttachment): Promise<void>;
  /** POST /messages/{id}/send (202). */
  send(draftId: string): Promise<void>;
  /** The message by immutable id (a sent draft keeps its id in Sent Items); `not-found` when gone. */
  getMessage(id: string): Promise<GraphDraft>;
  deleteMessage(id: string): Promise<void>;
  /**
   * Looks in Sent Items for a message carrying `headerName: value`, among messages sent at or after
   * `sinceMs`. Reads pages of 50 with their internet message headers.
   */
  findSentWithHeader(headerName: string, value: string, sinceMs: number): Promise<GraphDraft | undefined>;
}

export interface GraphSendClient {
  mailbox(target: MailboxTarget): MailboxSender;
  readonly limiter: MailboxLimiter;
}

const draftSelect = [
  'id',
  'isDraft',
  'internetMessageId',
  'conversationId',
  'subject',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'sentDateTime',
];

/** Creates the send client. */
export function createGraphSendClient(options: GraphSendClientOptions): GraphSendClient {
  const limiter = options.limiter ?? createMailboxLimiter({ perMailbox: 1 });
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultGraphRequestTimeoutMs;
  const inlineMax = options.inlineAttachmentMaxBytes ?? defaultInlineAttachmentMaxBytes;
  const clock = options.clock ?? Date.now;
  const client = createFencedGraphClient();

  function mailbox(target: MailboxTarget): MailboxSender {
    const key = mailboxKey(target);

    const mailboxCall = createMailboxCall(target, {
      tokens: options.tokens,
      limiter,
      clock,
      requestTimeoutMs,
      // One attempt, plus one with a fresh token after a 401: retries of a send are the caller's decision.
      maxAttempts: 2,
      retryTransient: false,
      maxInlineWaitMs: 0,
      logName: 'graph-send',
      logger: options.logger,
      onThrottled: options.onThrottled,
    });
    /** Every send-side request reads and returns immutable ids. */
    const call: MailboxCall = (what, build, run) => mailboxCall(what, (url) => build(url).header('Prefer', preferImmutable), run);

    /** The upload URL carries its own credential: Graph refuses an Authorization header there. */
    async function uploadChunks(uploadUrl: string, content: Buffer | StreamedAttachmentContent): Promise<void> {
      const size = sizeOf(content);
      let start = 0;
      for await (const chunk of uploadPieces(content, uploadChunkBytes)) {
        const end = start + chunk.length;
        if (end > size)
          throw new GraphMailError('rejected', `graph: the attachment is longer than its ${size} bytes`, noResponse);
        let response: Response;
        try {
          response = await limiter.run(key, () =>
            fetch(uploadUrl, {
              method: 'PUT',
              headers: {
                'Content-Type': 'application/octet-stream',
                'Content-Length': String(chunk.length),
                'Content-Range': `bytes ${start}-${end - 1}/${size}`,
              },
              body: chunk,
              signal: AbortSignal.timeout(requestTimeoutMs),
            }),
          );
        } catch (error) {
          throw new GraphMailError('unavailable', `graph: upload session chunk failed: ${(error as Error).message}`, {
            status: 0,
            graphCode: '',
            cause: error,
          });
        }
        if (!response.ok) {
          const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
          const error = classifyGraphError(
            {
              statusCode: response.status,
              code: body.error?.code,
              message: body.error?.message ?? 'upload failed',
              headers: response.headers,
            },
            clock(),
          );
          const throttle = throttleEventOf(error, target, 'upload-chunk');
          if (throttle) options.onThrottled?.(throttle);
          throw error;
        }
        await response.arrayBuffer().catch(() => undefined);
        start = end;
      }
      if (start !== size)
        throw new GraphMailError('rejected', `graph: the attachment ended at ${start} of its ${size} bytes`, noResponse);
    }

    return {
      target,
      createReplyDraft(originalMessageId, all, message) {
        return call(
          'create-reply',
          (url) => client.api(url(`messages/${encodeURIComponent(originalMessageId)}/${all ? 'createReplyAll' : 'createReply'}`)),
          async (request) => (await request.post({ message })) as GraphDraft,
        );
      },
      createDraft(message) {
        return call(
          'create-draft',
          (url) => client.api(url('messages')),
          async (request) => (await request.post(message)) as GraphDraft,
        );
      },
      updateDraft(draftId, changes) {
        return call(
          'update-draft',
          (url) => client.api(url(`messages/${encodeURIComponent(draftId)}`)),
          async (request) => (await request.patch(changes)) as GraphDraft,
        );
      },
      async addAttachment(draftId, attachment) {
        const metadata = {
          name: attachment.name,
          contentType: attachment.contentType,
          isInline: attachment.isInline,
          ...(attachment.contentId ? { contentId: attachment.contentId } : {}),
        };
        const size = sizeOf(attachment.content);
        if (size <= inlineMax) {
          const whole = Buffer.isBuffer(attachment.content) ? attachment.content : await collect(attachment.content.read());
          await call(
            'add-attachment',
            (url) => client.api(url(`messages/${encodeURIComponent(draftId)}/attachments`)),
            (request) =>
              request.post({
                '@odata.type': '#microsoft.graph.fileAttachment',
                ...metadata,
                contentBytes: whole.toString('base64'),
              }),
          );
          return;
        }
        const session = await call(
          'upload-session',
          (url) => client.api(url(`messages/${encodeURIComponent(draftId)}/attachments/createUploadSession`)),
          async (request) =>
            (await request.post({
              AttachmentItem: { attachmentType: 'file', ...metadata, size },
            })) as { uploadUrl?: string },
        );
        if (!session.uploadUrl)
          throw new GraphMailError('rejected', 'graph: upload session without uploadUrl', { status: 201, graphCode: '' });
        await uploadChunks(session.uploadUrl, attachment.content);
      },
      async send(draftId) {
        await call(
          'send',
          (url) => client.api(url(`messages/${encodeURIComponent(draftId)}/send`)),
          (request) => request.post({}),
        );
      },
      getMessage(id) {
        return call(
          'get-message',
          (url) => client.api(url(`messages/${encodeURIComponent(id)}`)).select(draftSelect),
          async (request) => (await request.get()) as GraphDraft,
        );
      },
      async deleteMessage(id) {
        await call(
          'delete-message',
          (url) => client.api(url(`messages/${encodeURIComponent(id)}`)),
          (request) => request.delete(),
        );
      },
      async findSentWithHeader(headerName, value, sinceMs) {
        const since = new Date(sinceMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
        let link: string | undefined;
        const wanted = headerName.toLowerCase();
        for (let page = 0; page < 40; page += 1) {
          const body: { value?: GraphDraft[]; '@odata.nextLink'?: string } = await call(
            'find-sent',
            (url) =>
              link
                ? client.api(link)
                : client
                    .api(url('mailFolders/sentitems/messages'))
                    .filter(`sentDateTime ge ${since}`)
                    .select([...draftSelect, 'internetMessageHeaders'])
                    .top(50),
            async (request) => (await request.get()) as { value?: GraphDraft[]; '@odata.nextLink'?: string },
          );
          const found = body.value?.find((message) =>
            message.internetMessageHeaders?.some((header) => header.name.toLowerCase() === wanted && header.value === value),
          );
          if (found) return found;
          link = body['@odata.nextLink'];
          if (!link) return undefined;
        }
        return undefined;
      },
    };
  }

  return { mailbox, limiter };
}

const noResponse = { status: 0, graphCode: '' };

const sizeOf = (content: Buffer | StreamedAttachmentContent): number =>
  Buffer.isBuffer(content) ? content.length : content.sizeBytes;

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
  return Buffer.concat(parts);
}

/**
 * The content in pieces of exactly `pieceBytes` (the last one shorter), as an upload session takes
 * them: a Buffer is cut, a stream is gathered into one reused piece buffer at a time, so at most one
 * piece (3.2 MB) of it is in memory whatever the attachment's size.
 */
async function* uploadPieces(content: Buffer | StreamedAttachmentContent, pieceBytes: number): AsyncIterable<Buffer> {
  if (Buffer.isBuffer(content)) {
    for (let start = 0; start < content.length; start += pieceBytes) yield content.subarray(start, start + pieceBytes);
    return;
  }
  const piece = Buffer.allocUnsafe(pieceBytes);
  let filled = 0;
  for await (const part of content.read()) {
    let offset = 0;
    while (offset < part.length) {
      const take = Math.min(pieceBytes - filled, part.length - offset);
      piece.set(part.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === pieceBytes) {
        yield piece;
        filled = 0;
      }
    }
  }
  if (filled > 0) yield piece.subarray(0, filled);
}
