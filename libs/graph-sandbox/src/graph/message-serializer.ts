import { htmlToText } from '@mailroute/platform';
import { toGraphDateTime } from '../shared/clock';
import type { Attachment, MailFolder, Mailbox, Message } from '../model/model.types';
import { childFolders, messagesInFolder } from '../model/mailbox.store';

/** How the caller wants messages rendered (from `Prefer` headers, `$select` and its permissions). */
export interface RenderOptions {
  /** `Prefer: IdType="ImmutableId"`. */
  immutableIds: boolean;
  /** `Prefer: outlook.body-content-type="text"|"html"`. */
  bodyContentType?: 'text' | 'html';
  select?: readonly string[];
  /** Only Mail.ReadBasic: no body, preview or attachments. */
  basicOnly: boolean;
  baseUrl: string;
}

/** Message properties Graph returns by default (no `$select`). */
const defaultMessageProperties = [
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'internetMessageId',
  'subject',
  'bodyPreview',
  'importance',
  'parentFolderId',
  'conversationId',
  'conversationIndex',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'isRead',
  'isDraft',
  'webLink',
  'inferenceClassification',
  'body',
  'sender',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'flag',
] as const;

/** Properties only returned when selected. */
const selectOnlyProperties = ['internetMessageHeaders', 'uniqueBody', 'attachments'] as const;

export const selectableMessageProperties: ReadonlySet<string> = new Set([
  'id',
  ...defaultMessageProperties,
  ...selectOnlyProperties,
]);

const basicWithheld = new Set(['body', 'bodyPreview', 'uniqueBody', 'attachments']);

function textToHtml(text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><div>${escaped.replace(/\n/g, '<br>')}</div></body></html>`;
}

function renderBody(message: Message, wanted: 'text' | 'html' | undefined) {
  const target = wanted ?? message.body.contentType;
  if (target === message.body.contentType) return { contentType: target, content: message.body.content };
  return target === 'text'
    ? { contentType: 'text', content: htmlToText(message.body.content).text }
    : { contentType: 'html', content: textToHtml(message.body.content) };
}

export function messageId(message: Message, immutable: boolean): string {
  return immutable ? message.immutableId : message.restId;
}

export function toGraphAttachment(attachment: Attachment, withContent: boolean): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': attachment.contentType,
    id: attachment.id,
    lastModifiedDateTime: toGraphDateTime(attachment.lastModifiedMs),
    name: attachment.name,
    contentType: attachment.contentType,
    size: attachment.content.length + 200,
    isInline: attachment.isInline,
    contentId: attachment.contentId ?? null,
    contentLocation: null,
    ...(withContent ? { contentBytes: attachment.content.toString('base64') } : {}),
  };
}

/** Renders a message as Graph's `microsoft.graph.message` JSON. */
export function toGraphMessage(message: Message, options: RenderOptions): Record<string, unknown> {
  const id = messageId(message, options.immutableIds);
  const read = (property: string): unknown => {
    switch (property) {
      case 'createdDateTime':
        return toGraphDateTime(message.createdMs);
      case 'lastModifiedDateTime':
        return toGraphDateTime(message.lastModifiedMs);
      case 'changeKey':
        return message.changeKey;
      case 'categories':
        return message.categories;
      case 'receivedDateTime':
        return toGraphDateTime(message.receivedMs);
      case 'sentDateTime':
        return toGraphDateTime(message.sentMs);
      case 'hasAttachments':
        return message.attachments.some((attachment) => !attachment.isInline);
      case 'internetMessageId':
        return message.internetMessageId;
      case 'subject':
        return message.subject;
      case 'bodyPreview':
        return htmlToText(message.body.contentType === 'html' ? message.body.content : message.body.content.replace(/</g, '&lt;'))
          .text.replace(/\s+/g, ' ')
          .slice(0, 255);
      case 'importance':
        return message.importance;
      case 'parentFolderId':
        return message.folderId;
      case 'conversationId':
        return message.conversationId;
      case 'conversationIndex':
        return message.conversationIndex.toString('base64');
      case 'isDeliveryReceiptRequested':
        return false;
      case 'isReadReceiptRequested':
        return false;
      case 'isRead':
        return message.isRead;
      case 'isDraft':
        return message.isDraft;
      case 'webLink':
        return `${options.baseUrl}/owa/?ItemID=${encodeURIComponent(id)}&exvsurl=1&viewmodel=ReadMessageItem`;
      case 'inferenceClassification':
        return 'focused';
      case 'body':
        return renderBody(message, options.bodyContentType);
      case 'uniqueBody':
        return renderBody(message, options.bodyContentType);
      case 'sender':
        return message.sender ?? null;
      case 'from':
        return message.from ?? null;
      case 'toRecipients':
        return message.toRecipients;
      case 'ccRecipients':
        return message.ccRecipients;
      case 'bccRecipients':
        return message.bccRecipients;
      case 'replyTo':
        return message.replyTo;
      case 'flag':
        return { flagStatus: message.flagStatus };
      case 'internetMessageHeaders':
        return message.internetMessageHeaders;
      case 'attachments':
        return message.attachments.map((attachment) => toGraphAttachment(attachment, true));
      default:
        return undefined;
    }
  };
  const result: Record<string, unknown> = { '@odata.etag': `W/"${message.changeKey}"`, id };
  const properties = options.select ?? defaultMessageProperties;
  for (const property of properties) {
    if (property === 'id') continue;
    if (options.basicOnly && basicWithheld.has(property)) continue;
    result[property] = read(property);
  }
  return result;
}

/** Renders a mail folder as Graph's `microsoft.graph.mailFolder` JSON. */
export function toGraphFolder(mailbox: Mailbox, folder: MailFolder): Record<string, unknown> {
  const messages = messagesInFolder(mailbox, folder.id);
  return {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parentFolderId,
    childFolderCount: childFolders(mailbox, folder.id).length,
    unreadItemCount: messages.filter((message) => !message.isRead).length,
    totalItemCount: messages.length,
    sizeInBytes: messages.reduce(
      (sum, message) => sum + message.body.content.length + message.attachments.reduce((size, a) => size + a.content.length, 0),
      0,
    ),
    isHidden: false,
  };
}
