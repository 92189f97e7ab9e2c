import { htmlToText } from '@mailroute/platform';
import { sendingIdentity } from '../authz/mailbox-access';
import type { Mailbox, Message, Recipient, SentRecord } from '../model/model.types';
import { deliverInbound } from '../model/mail-delivery';
import {
  findMessage,
  insertMessage,
  moveMessage,
  newConversationIndex,
  newInternetMessageId,
  wellKnownFolder,
  markChanged,
} from '../model/mailbox.store';
import { toGraphDateTime } from '../shared/clock';
import type { SandboxContext } from '../shared/sandbox-context';
import { parseMessageInput, type MessageInput } from './compose';
import { graphErrors } from './graph-errors';
import type { GraphRequestContext, GraphResult, GraphRoute } from './graph-route';
import { toGraphMessage } from './message-serializer';

/** Exchange Online's default MaxSendSize (35 MB). */
const exchangeDefaultMaxSendSizeBytes = 35 * 1024 * 1024;

function self(mailbox: Mailbox): Recipient {
  return { emailAddress: { name: mailbox.displayName, address: mailbox.mail } };
}

/** Removes a message that was never sent (or not to be kept) without a trace in delta. */
function discard(mailbox: Mailbox, message: Message): void {
  mailbox.messages.delete(message.immutableId);
  mailbox.restIdIndex.delete(message.restId);
}

function headerValue(message: Message, name: string): string | undefined {
  return message.internetMessageHeaders.find((header) => header.name.toLowerCase() === name.toLowerCase())?.value;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Headers a delivery writes itself (mail-delivery.ts transportHeaders). */
const transportHeaderNames = new Set([
  'received',
  'from',
  'to',
  'cc',
  'subject',
  'date',
  'message-id',
  'in-reply-to',
  'references',
  'mime-version',
  'content-type',
]);

/**
 * Sends `message` through `mailbox`: as the caller may (Send As / Send on Behalf, see sendingIdentity),
 * records it in the mailbox's sent log, keeps a copy in that mailbox's Sent Items when asked, and delivers
 * it to every recipient that is a mailbox of the sandbox (any tenant), threaded by In-Reply-To/References.
 * Graph answers 202 and delivers asynchronously; the sandbox delivers at once.
 */
function dispatch(
  sandbox: SandboxContext,
  context: GraphRequestContext,
  message: Message,
  via: SentRecord['via'],
  saveToSentItems: boolean,
): void {
  const { mailbox, now } = context;
  const identity = sendingIdentity(sandbox.state, context.caller, mailbox, message.from);
  message.from = identity.from;
  message.sender = identity.sender;
  const recipients = [...message.toRecipients, ...message.ccRecipients, ...message.bccRecipients];
  if (recipients.length === 0) throw graphErrors.invalidRecipients();
  // The sandbox is authoritative for its tenants' domains: an address there without a mailbox does not resolve.
  for (const recipient of recipients) {
    const address = recipient.emailAddress.address;
    const domain = address.slice(address.lastIndexOf('@') + 1);
    if (sandbox.state.ownsDomain(domain) && !sandbox.state.findMailboxByAddress(address))
      throw graphErrors.invalidRecipients(address);
  }
  const size =
    Buffer.byteLength(message.body.content, 'utf8') +
    message.attachments.reduce((total, attachment) => total + attachment.content.length, 0);
  if (size > (mailbox.maxSendSizeBytes ?? exchangeDefaultMaxSendSizeBytes)) throw graphErrors.messageSizeExceeded();
  const inReplyTo = headerValue(message, 'In-Reply-To');
  const references = headerValue(message, 'References')?.split(/\s+/).filter(Boolean);
  // What the client set (x- headers, PS_INTERNET_HEADERS properties); the transport headers are written again on delivery.
  const customHeaders = message.internetMessageHeaders.filter((header) => !transportHeaderNames.has(header.name.toLowerCase()));
  mailbox.sent.push({
    via,
    sentAt: toGraphDateTime(now),
    internetMessageId: message.internetMessageId,
    conversationId: message.conversationId,
    subject: message.subject,
    body: message.body,
    from: identity.from,
    sender: identity.sender,
    toRecipients: message.toRecipients,
    ccRecipients: message.ccRecipients,
    bccRecipients: message.bccRecipients,
    internetMessageHeaders: message.internetMessageHeaders,
    ...(inReplyTo ? { inReplyTo } : {}),
    attachments: message.attachments.map((attachment) => ({
      name: attachment.name,
      contentType: attachment.contentType,
      size: attachment.content.length,
    })),
    savedToSentItems: saveToSentItems,
    appId: context.caller.appId,
  });
  const delivered = new Set<string>();
  for (const recipient of recipients) {
    const target = sandbox.state.findMailboxByAddress(recipient.emailAddress.address);
    if (!target || delivered.has(target.id)) continue;
    delivered.add(target.id);
    deliverInbound(
      target,
      {
        from: identity.from,
        ...(identity.sender.emailAddress.address === identity.from.emailAddress.address ? {} : { sender: identity.sender }),
        to: message.toRecipients,
        cc: message.ccRecipients,
        subject: message.subject,
        body: message.body,
        headers: customHeaders,
        internetMessageId: message.internetMessageId,
        ...(inReplyTo ? { inReplyTo } : {}),
        ...(references ? { references } : {}),
        attachments: message.attachments.map(({ name, contentType, content, isInline, contentId }) => ({
          name,
          contentType,
          content,
          isInline,
          ...(contentId ? { contentId } : {}),
        })),
      },
      now,
    );
  }
}

function newOutgoing(
  context: GraphRequestContext,
  input: MessageInput,
  extra: Partial<Parameters<typeof insertMessage>[2]>,
  folder: 'drafts' | 'sentitems',
  isDraft: boolean,
): Message {
  const { mailbox, now } = context;
  const internetMessageId = newInternetMessageId(mailbox.mail);
  return insertMessage(
    mailbox,
    wellKnownFolder(mailbox, folder),
    {
      subject: input.subject ?? '',
      body: input.body ?? { contentType: 'text', content: '' },
      from: input.from ?? self(mailbox),
      sender: input.from ?? self(mailbox),
      toRecipients: input.toRecipients ?? [],
      ccRecipients: input.ccRecipients ?? [],
      bccRecipients: input.bccRecipients ?? [],
      replyTo: input.replyTo ?? [],
      isRead: true,
      isDraft,
      ...(input.importance ? { importance: input.importance } : {}),
      ...(input.categories ? { categories: input.categories } : {}),
      internetMessageId,
      internetMessageHeaders: input.internetMessageHeaders ?? [],
      attachments: input.attachments ?? [],
      receivedMs: now,
      sentMs: now,
      ...extra,
    },
    now,
  );
}

/** Builds the reply to `original` (recipients, subject, quoted body, In-Reply-To/References, same conversation). */
function buildReply(context: GraphRequestContext, all: boolean, folder: 'drafts' | 'sentitems', isDraft: boolean): Message {
  const { mailbox } = context;
  const original = findMessage(mailbox, context.params['message'] ?? '');
  if (!original) throw graphErrors.itemNotFound();
  const request = (context.body ?? {}) as { comment?: unknown; message?: unknown };
  const input = parseMessageInput(request.message);
  const comment = typeof request.comment === 'string' ? request.comment : undefined;
  if (comment !== undefined && input.body) throw graphErrors.commentAndBody();
  const own = mailbox.mail.toLowerCase();
  const primary = original.replyTo.length > 0 ? original.replyTo : original.from ? [original.from] : [];
  let to = input.toRecipients ?? primary;
  let cc = input.ccRecipients ?? [];
  if (all && !input.toRecipients) {
    const seen = new Set(to.map((recipient) => recipient.emailAddress.address.toLowerCase()));
    const extraTo = original.toRecipients.filter(
      (recipient) =>
        !seen.has(recipient.emailAddress.address.toLowerCase()) && recipient.emailAddress.address.toLowerCase() !== own,
    );
    to = [...to, ...extraTo];
    if (!input.ccRecipients)
      cc = original.ccRecipients.filter((recipient) => recipient.emailAddress.address.toLowerCase() !== own);
  }
  const originalText = htmlToText(original.body.content).text;
  const quoted = `<hr><div><b>From:</b> ${escapeHtml(original.from?.emailAddress.address ?? '')}<br><b>Sent:</b> ${toGraphDateTime(original.sentMs)}<br><b>Subject:</b> ${escapeHtml(original.subject)}</div><blockquote>${escapeHtml(originalText)}</blockquote>`;
  const lead = input.body
    ? input.body.contentType === 'html'
      ? input.body.content
      : `<div>${escapeHtml(input.body.content)}</div>`
    : `<div>${escapeHtml(comment ?? '')}</div>`;
  const references = [...(headerValue(original, 'References')?.split(/\s+/).filter(Boolean) ?? []), original.internetMessageId];
  return newOutgoing(
    context,
    {
      ...input,
      subject: input.subject ?? (/^re:/i.test(original.subject) ? original.subject : `RE: ${original.subject}`),
      body: { contentType: 'html', content: `<html><body>${lead}${quoted}</body></html>` },
      toRecipients: to,
      ccRecipients: cc,
      internetMessageHeaders: [
        { name: 'In-Reply-To', value: original.internetMessageId },
        { name: 'References', value: references.join(' ') },
        ...(input.internetMessageHeaders ?? []),
      ],
    },
    {
      conversationId: original.conversationId,
      conversationIndex: newConversationIndex(context.now, original.conversationIndex),
      replyToMessageImmutableId: original.immutableId,
    },
    folder,
    isDraft,
  );
}

const render = (context: GraphRequestContext, message: Message) => toGraphMessage(message, context.render);

/** Sending: sendMail, reply/replyAll, createReply/createReplyAll + send. */
export function sendRoutes(sandbox: SandboxContext): GraphRoute[] {
  const replyNow =
    (all: boolean) =>
    (context: GraphRequestContext): GraphResult => {
      const reply = buildReply(context, all, 'sentitems', false);
      try {
        dispatch(sandbox, context, reply, all ? 'replyAll' : 'reply', true);
      } catch (error) {
        discard(context.mailbox, reply);
        throw error;
      }
      return { status: 202 };
    };
  const createReply =
    (all: boolean) =>
    (context: GraphRequestContext): GraphResult => ({
      status: 201,
      body: render(context, buildReply(context, all, 'drafts', true)),
    });
  return [
    {
      method: 'POST',
      path: 'sendMail',
      name: 'messages.sendMail',
      access: 'send',
      handle: (context) => {
        const request = (context.body ?? {}) as { message?: unknown; saveToSentItems?: unknown };
        if (request.message === undefined)
          throw graphErrors.badRequest("The property 'message' is required.", 'ErrorInvalidArgument');
        const input = parseMessageInput(request.message);
        const save =
          request.saveToSentItems === undefined ? true : request.saveToSentItems === true || request.saveToSentItems === 'true';
        const message = newOutgoing(context, input, {}, 'sentitems', false);
        try {
          dispatch(sandbox, context, message, 'sendMail', save);
        } catch (error) {
          discard(context.mailbox, message);
          throw error;
        }
        if (!save) discard(context.mailbox, message);
        return { status: 202 };
      },
    },
    { method: 'POST', path: 'messages/{message}/reply', name: 'messages.reply', access: 'send', handle: replyNow(false) },
    { method: 'POST', path: 'messages/{message}/replyAll', name: 'messages.replyAll', access: 'send', handle: replyNow(true) },
    {
      method: 'POST',
      path: 'messages/{message}/createReply',
      name: 'messages.createReply',
      access: 'write',
      handle: createReply(false),
    },
    {
      method: 'POST',
      path: 'messages/{message}/createReplyAll',
      name: 'messages.createReplyAll',
      access: 'write',
      handle: createReply(true),
    },
    {
      method: 'POST',
      path: 'messages/{message}/send',
      name: 'messages.send',
      access: 'send',
      handle: (context) => {
        const draft = findMessage(context.mailbox, context.params['message'] ?? '');
        if (!draft) throw graphErrors.itemNotFound();
        if (!draft.isDraft) throw graphErrors.notDraft();
        dispatch(sandbox, context, draft, 'send', true);
        draft.isDraft = false;
        draft.sentMs = context.now;
        draft.receivedMs = context.now;
        markChanged(context.mailbox, draft, context.now);
        moveMessage(context.mailbox, draft, wellKnownFolder(context.mailbox, 'sentitems'), context.now);
        return { status: 202 };
      },
    },
  ];
}

export { newOutgoing };
