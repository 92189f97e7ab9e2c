import {
  AttachmentKind,
  Importance,
  InboundMessage,
  type AttachmentInfo,
  type EmailAddress,
  type InternetMessageHeader,
} from '@mailroute/contracts';
import { htmlToText } from '@mailroute/platform';
import {
  classifyAutomation,
  sanitizeMailHtml,
  type GraphAttachment,
  type GraphMessage,
  type GraphRecipient,
} from '@mailroute/graph-mail';

/** Headers carried on the event (InboundMessage.headers), lower-case. */
const carriedHeaders = new Set([
  'auto-submitted',
  'x-auto-response-suppress',
  'precedence',
  'list-id',
  'list-unsubscribe',
  'return-path',
  'content-language',
  'x-mailroute-send-id',
]);

const limits = {
  bodyTextBytes: 262_144,
  bodyHtmlBytes: 262_144,
  subject: 2048,
  recipients: 100,
  replyTo: 20,
  references: 20,
  headers: 20,
  headerValue: 2048,
  attachments: 100,
};
// Keeps the encoded event under Kafka's 1 MB default record limit (email.proto: 900 KiB).
const maxBodyForEvent = 600_000;
/** The encoded InboundMessage's limit (email.proto: 900 KiB); every field at its limit comes to about 880 KB. */
export const maxEncodedMessageBytes = 921_600;

/** Removes control characters except tab, line feed and carriage return. */
function stripControl(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.charCodeAt(0);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) continue;
    out += char;
  }
  return out;
}
const clean = (value: string | null | undefined, max: number): string =>
  stripControl((value ?? '').slice(0, max * 2)).slice(0, max);
const singleLine = (value: string | null | undefined, max: number): string =>
  clean(value, max * 2)
    .replace(/[\r\n\t]+/g, ' ')
    .slice(0, max);

function toAddress(recipient: GraphRecipient | null | undefined): EmailAddress | undefined {
  const address = recipient?.emailAddress;
  if (!address) return undefined;
  return { address: singleLine(address.address, 320).replace(/[<>\s]/g, ''), name: singleLine(address.name, 256) };
}

function toAddresses(recipients: GraphRecipient[] | null | undefined, max: number): { list: EmailAddress[]; truncated: boolean } {
  const list = (recipients ?? []).map(toAddress).filter((a): a is EmailAddress => a !== undefined);
  return { list: list.slice(0, max), truncated: list.length > max };
}

/** Cuts UTF-8 text to `maxBytes` at a character boundary. */
export function cutUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return { text: bytes.subarray(0, end).toString('utf8'), truncated: true };
}

function headerValue(headers: readonly InternetMessageHeader[], name: string): string | undefined {
  return headers.find((header) => header.name.toLowerCase() === name)?.value;
}

function importanceOf(value: string | null | undefined): Importance {
  switch ((value ?? '').toLowerCase()) {
    case 'low':
      return Importance.IMPORTANCE_LOW;
    case 'high':
      return Importance.IMPORTANCE_HIGH;
    default:
      return Importance.IMPORTANCE_NORMAL;
  }
}

function attachmentKind(odataType: string | undefined): AttachmentKind {
  if (odataType?.endsWith('itemAttachment')) return AttachmentKind.ATTACHMENT_KIND_ITEM;
  if (odataType?.endsWith('referenceAttachment')) return AttachmentKind.ATTACHMENT_KIND_REFERENCE;
  return AttachmentKind.ATTACHMENT_KIND_FILE;
}

/** What happened to one attachment's content (decided by the ingester under the storage limit). */
export interface StoredAttachment {
  attachment: GraphAttachment;
  sha256?: string | undefined;
}

/** Attachment metadata for the event. */
function toAttachmentInfo(stored: StoredAttachment): AttachmentInfo {
  const a = stored.attachment;
  return {
    attachmentId: a.id,
    name: clean(a.name, 255).replace(/[\\/]/g, '_'),
    contentType: singleLine(a.contentType, 255) || 'application/octet-stream',
    sizeBytes: a.size ?? 0,
    kind: attachmentKind(a['@odata.type']),
    isInline: a.isInline ?? false,
    contentId: singleLine(a.contentId, 998).replace(/^<|>$/g, ''),
    contentStored: stored.sha256 !== undefined,
    contentSha256: stored.sha256 ?? '',
  };
}

/**
 * The InboundMessage of a Graph message (bounded, control characters removed), with the HTML body
 * sanitized for agents; the HTML is left out when the encoded message would exceed `maxEncodedBytes`.
 */
export function toInboundMessage(
  message: GraphMessage,
  attachments: readonly StoredAttachment[],
  attachmentsOverLimit: boolean,
  maxEncodedBytes = maxEncodedMessageBytes,
): InboundMessage {
  const headers = (message.internetMessageHeaders ?? []).map((h) => ({
    name: singleLine(h.name, 256),
    value: singleLine(h.value, 8192),
  }));
  const from = toAddress(message.from) ?? { address: '', name: '' };
  const sender = toAddress(message.sender);
  const subject = singleLine(message.subject, limits.subject);
  const isHtml = (message.body?.contentType ?? '').toLowerCase() === 'html';
  const rawBody = message.body?.content ?? '';
  // htmlToText reads at most 1 MiB of HTML, in time linear in it (hostile HTML included).
  const converted = isHtml ? htmlToText(rawBody) : { text: rawBody, truncated: false };
  const text = cutUtf8(clean(converted.text, limits.bodyTextBytes * 4), Math.min(limits.bodyTextBytes, maxBodyForEvent));
  const html = isHtml
    ? sanitizeMailHtml(rawBody, 'agent', { maxOutputBytes: limits.bodyHtmlBytes })
    : { html: '', truncated: false };
  const to = toAddresses(message.toRecipients, limits.recipients);
  const cc = toAddresses(message.ccRecipients, limits.recipients);
  const replyTo = toAddresses(message.replyTo, limits.replyTo);
  const references = (headerValue(headers, 'references') ?? '').split(/\s+/).filter((id) => /^<[^<>]+>$/.test(id));
  const language = singleLine(headerValue(headers, 'content-language'), 35).split(',')[0]?.trim() ?? '';
  const inbound: InboundMessage = {
    graphMessageId: message.id,
    internetMessageId: singleLine(message.internetMessageId, 998),
    conversationId: singleLine(message.conversationId, 512),
    inReplyTo: singleLine(headerValue(headers, 'in-reply-to'), 998).trim(),
    references: references.slice(-limits.references).map((id) => id.slice(0, 998)),
    from,
    sender: sender && sender.address.toLowerCase() !== from.address.toLowerCase() ? sender : undefined,
    replyTo: replyTo.list,
    to: to.list,
    cc: cc.list,
    subject,
    receivedAt: message.receivedDateTime ? new Date(message.receivedDateTime) : new Date(),
    sentAt: message.sentDateTime ? new Date(message.sentDateTime) : undefined,
    bodyText: text.text,
    bodyTextTruncated: text.truncated || converted.truncated,
    bodyPreview: clean(message.bodyPreview, 255),
    hasHtmlBody: isHtml,
    language,
    importance: importanceOf(message.importance),
    attachments: attachments.slice(0, limits.attachments).map(toAttachmentInfo),
    attachmentsOverLimit: attachmentsOverLimit || attachments.length > limits.attachments,
    automation: classifyAutomation({ headers, from: from.address || sender?.address || '', subject }),
    headers: headers
      .filter((h) => carriedHeaders.has(h.name.toLowerCase()))
      .slice(0, limits.headers)
      .map((h) => ({ name: h.name, value: h.value.slice(0, limits.headerValue) })),
    recipientsTruncated: to.truncated || cc.truncated || replyTo.truncated,
    bodyHtml: html.html,
    bodyHtmlTruncated: html.truncated,
  };
  // The HTML is what gives way when every field is at its limit: the event must fit.
  if (inbound.bodyHtml && InboundMessage.encode(inbound).finish().length > maxEncodedBytes)
    return { ...inbound, bodyHtml: '', bodyHtmlTruncated: true };
  return inbound;
}
