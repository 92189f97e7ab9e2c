import type { InternetMessageHeader, ItemBody, Recipient } from '../model/model.types';
import { graphErrors } from './graph-errors';

/** Exchange Online caps a message's header block at 256 KB. */
const maxHeaderBytes = 256 * 1024;
const maxRecipients = 500;
/** Larger attachments need an upload session (3–150 MB). */
const maxInlineAttachmentBytes = 3 * 1024 * 1024;

/** The writable message fields a client may send (sendMail, create, PATCH on a draft, reply's `message`). */
export interface MessageInput {
  subject?: string;
  body?: ItemBody;
  toRecipients?: Recipient[];
  ccRecipients?: Recipient[];
  bccRecipients?: Recipient[];
  replyTo?: Recipient[];
  /** Send from another mailbox (Send As / Send on Behalf); the mailbox the request names when absent. */
  from?: Recipient;
  internetMessageHeaders?: InternetMessageHeader[];
  importance?: 'low' | 'normal' | 'high';
  categories?: string[];
  attachments?: Array<{ name: string; contentType: string; content: Buffer; isInline: boolean; contentId?: string }>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseRecipients(value: unknown, field: string): Recipient[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw graphErrors.badRequest(`The property '${field}' must be a collection of recipients.`, 'ErrorInvalidArgument');
  return value.map((item) => {
    const address = isRecord(item) && isRecord(item['emailAddress']) ? item['emailAddress']['address'] : undefined;
    if (typeof address !== 'string' || !/^[^@\s<>]+@[^@\s<>]+$/.test(address)) throw graphErrors.invalidRecipients();
    const name = isRecord(item) && isRecord(item['emailAddress']) ? item['emailAddress']['name'] : undefined;
    return { emailAddress: { address, ...(typeof name === 'string' ? { name } : {}) } };
  });
}

/**
 * Custom internet message headers: Graph accepts only names starting with `x-`/`X-`, only when a message is
 * created, and Exchange caps the header block at 256 KB.
 */
function parseCustomHeaders(value: unknown): InternetMessageHeader[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw graphErrors.badRequest("The property 'internetMessageHeaders' must be a collection.", 'ErrorInvalidArgument');
  let bytes = 0;
  const headers = value.map((item) => {
    const name = isRecord(item) ? item['name'] : undefined;
    const headerValue = isRecord(item) ? item['value'] : undefined;
    if (typeof name !== 'string' || typeof headerValue !== 'string')
      throw graphErrors.badRequest('An internet message header needs a name and a value.', 'ErrorInvalidArgument');
    if (!/^x-/i.test(name)) throw graphErrors.invalidHeader(name);
    if (/[\r\n]/.test(name) || /[\r\n]/.test(headerValue) || !/^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
      throw graphErrors.badRequest(
        `The internet message header '${name}' contains characters that are not allowed.`,
        'InvalidInternetMessageHeader',
      );
    }
    bytes += name.length + headerValue.length + 4;
    return { name, value: headerValue };
  });
  if (bytes > maxHeaderBytes) throw graphErrors.headersTooLarge();
  return headers;
}

/** PS_INTERNET_HEADERS: a named string property in this set is written into the sent message's MIME header by Exchange. */
const internetHeadersProperty = /^String \{00020386-0000-0000-C000-000000000046\} Name ([\x21-\x39\x3b-\x7e]{1,100})$/i;

/**
 * `singleValueExtendedProperties`: the sandbox models only PS_INTERNET_HEADERS properties, the way a
 * client sets a transport header Graph refuses in `internetMessageHeaders` (e.g. `Auto-Submitted`);
 * they become headers of the message. Any other property is refused as unsupported.
 */
function parseInternetHeaderProperties(value: unknown): InternetMessageHeader[] {
  if (!Array.isArray(value))
    throw graphErrors.badRequest("The property 'singleValueExtendedProperties' must be a collection.", 'ErrorInvalidArgument');
  return value.map((item) => {
    const id = isRecord(item) ? item['id'] : undefined;
    const headerValue = isRecord(item) ? item['value'] : undefined;
    const name = typeof id === 'string' ? internetHeadersProperty.exec(id)?.[1] : undefined;
    if (!name || typeof headerValue !== 'string')
      throw graphErrors.badRequest(
        `Extended property ${JSON.stringify(id)} is not supported by the sandbox (only PS_INTERNET_HEADERS strings).`,
        'ErrorInvalidArgument',
      );
    if (/[\r\n]/.test(headerValue))
      throw graphErrors.badRequest(`The value of extended property '${name}' contains a line break.`, 'ErrorInvalidArgument');
    return { name, value: headerValue };
  });
}

function parseBody(value: unknown): ItemBody | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value) || typeof value['content'] !== 'string')
    throw graphErrors.badRequest("The property 'body' must have a 'content'.", 'ErrorInvalidArgument');
  const type = String(value['contentType'] ?? 'text').toLowerCase();
  if (type !== 'text' && type !== 'html')
    throw graphErrors.badRequest(`Invalid body contentType '${type}'.`, 'ErrorInvalidArgument');
  return { contentType: type, content: value['content'] };
}

function parseAttachments(value: unknown): NonNullable<MessageInput['attachments']> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw graphErrors.badRequest("The property 'attachments' must be a collection.", 'ErrorInvalidArgument');
  return value.map((item) => parseAttachment(item));
}

/** One `#microsoft.graph.fileAttachment` (contentBytes base64, under 3 MB). */
export function parseAttachment(item: unknown): NonNullable<MessageInput['attachments']>[number] {
  if (!isRecord(item) || typeof item['name'] !== 'string' || typeof item['contentBytes'] !== 'string') {
    throw graphErrors.badRequest('A file attachment needs name and contentBytes.', 'ErrorInvalidArgument');
  }
  const type = item['@odata.type'];
  if (type !== undefined && type !== '#microsoft.graph.fileAttachment')
    throw graphErrors.badRequest(`Attachment type ${String(type)} is not supported by the sandbox.`, 'ErrorInvalidArgument');
  const content = Buffer.from(item['contentBytes'], 'base64');
  if (content.length > maxInlineAttachmentBytes) throw graphErrors.attachmentTooLarge();
  return {
    name: item['name'],
    contentType: typeof item['contentType'] === 'string' ? item['contentType'] : 'application/octet-stream',
    content,
    isInline: item['isInline'] === true,
    ...(typeof item['contentId'] === 'string' ? { contentId: item['contentId'] } : {}),
  };
}

/** Validates a client-supplied message object. */
export function parseMessageInput(value: unknown): MessageInput {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw graphErrors.badRequest('The message must be a JSON object.', 'ErrorInvalidArgument');
  const input: MessageInput = {};
  if (value['subject'] !== undefined) input.subject = String(value['subject']);
  const body = parseBody(value['body']);
  if (body) input.body = body;
  for (const field of ['toRecipients', 'ccRecipients', 'bccRecipients', 'replyTo'] as const) {
    if (value[field] !== undefined) input[field] = parseRecipients(value[field], field);
  }
  if (value['from'] !== undefined && value['from'] !== null) [input.from] = parseRecipients([value['from']], 'from');
  if (value['internetMessageHeaders'] !== undefined)
    input.internetMessageHeaders = parseCustomHeaders(value['internetMessageHeaders']);
  if (value['singleValueExtendedProperties'] !== undefined)
    input.internetMessageHeaders = [
      ...(input.internetMessageHeaders ?? []),
      ...parseInternetHeaderProperties(value['singleValueExtendedProperties']),
    ];
  if (value['importance'] !== undefined) {
    const importance = String(value['importance']).toLowerCase();
    if (importance !== 'low' && importance !== 'normal' && importance !== 'high')
      throw graphErrors.badRequest(`Invalid importance '${importance}'.`, 'ErrorInvalidArgument');
    input.importance = importance;
  }
  if (value['categories'] !== undefined) {
    if (!Array.isArray(value['categories']))
      throw graphErrors.badRequest("The property 'categories' must be a collection of strings.", 'ErrorInvalidArgument');
    input.categories = value['categories'].map(String);
  }
  if (value['attachments'] !== undefined) input.attachments = parseAttachments(value['attachments']);
  const total = (input.toRecipients?.length ?? 0) + (input.ccRecipients?.length ?? 0) + (input.bccRecipients?.length ?? 0);
  if (total > maxRecipients) throw graphErrors.tooManyRecipients();
  return input;
}
