import { ResponseType, type Client } from '@microsoft/microsoft-graph-client';
import type { MailboxGraph } from './graph-mail.client';
import type { GraphAttachment } from './graph-mail.types';
import { preferImmutable, type MailboxCall } from './mailbox-call';

/**
 * A message's attachments: listed, read whole or streamed, through the mailbox's call path so they count
 * against the same per-mailbox limits. https://learn.microsoft.com/graph/api/attachment-get
 */
export function attachmentCalls(
  call: MailboxCall,
  client: Client,
): Pick<MailboxGraph, 'listAttachments' | 'getAttachment' | 'getAttachmentContent' | 'streamAttachmentContent'> {
  /** The request of a file attachment's raw content (`…/attachments/{id}/$value`), read whole or streamed. */
  const contentRequest =
    (messageId: string, attachmentId: string, responseType: ResponseType) => (url: (path: string) => string) =>
      client
        .api(url(`messages/${encodeURIComponent(messageId)}/attachments/${encodeURIComponent(attachmentId)}/$value`))
        .header('Prefer', preferImmutable)
        .responseType(responseType);

  return {
    listAttachments(messageId) {
      return call(
        'attachments',
        (url) =>
          client
            .api(url(`messages/${encodeURIComponent(messageId)}/attachments`))
            .header('Prefer', preferImmutable)
            .select(['id', 'name', 'contentType', 'size', 'isInline', 'contentId']),
        async (request) => {
          const body = (await request.get()) as { value?: GraphAttachment[] };
          return body.value ?? [];
        },
      );
    },
    getAttachment(messageId, attachmentId) {
      return call(
        'attachment',
        (url) =>
          client
            .api(url(`messages/${encodeURIComponent(messageId)}/attachments/${encodeURIComponent(attachmentId)}`))
            .header('Prefer', preferImmutable),
        async (request) => (await request.get()) as GraphAttachment,
      );
    },
    getAttachmentContent(messageId, attachmentId) {
      return call('attachment-content', contentRequest(messageId, attachmentId, ResponseType.ARRAYBUFFER), async (request) =>
        Buffer.from((await request.get()) as ArrayBuffer),
      );
    },
    streamAttachmentContent(messageId, attachmentId, consume) {
      return call(
        'attachment-content',
        contentRequest(messageId, attachmentId, ResponseType.STREAM),
        // fetch's body: a web ReadableStream, which Node iterates chunk by chunk.
        async (request) => consume((await request.get()) as AsyncIterable<Uint8Array>),
      );
    },
  };
}
