import type { Message } from '../model/model.types';
import { findMessage, insertMessage, deleteMessage, markChanged, messagesInFolder, moveMessage } from '../model/mailbox.store';
import { newItemId } from '../shared/ids';
import { parseAttachment, parseMessageInput } from './compose';
import { requireFolder } from './folders.handler';
import { graphErrors } from './graph-errors';
import type { GraphRequestContext, GraphResult, GraphRoute } from './graph-route';
import { messageId, toGraphAttachment, toGraphMessage } from './message-serializer';
import { toMime } from './mime';
import { matchesFilter, parseCount, parseMessageFilter, parseOrderBy, parseSelect, sortMessages } from './odata-query';
import { newOutgoing } from './send.handler';

function requireMessage(context: GraphRequestContext): Message {
  const message = findMessage(context.mailbox, context.params['message'] ?? '');
  // A message addressed through a folder must be in that folder.
  const folder = context.params['folder'];
  if (!message || (folder && requireFolder(context.mailbox, folder).id !== message.folderId)) throw graphErrors.itemNotFound();
  return message;
}

function render(context: GraphRequestContext, message: Message): Record<string, unknown> {
  const select = parseSelect(context.query);
  return toGraphMessage(message, { ...context.render, ...(select ? { select } : {}) });
}

function list(context: GraphRequestContext, messages: Message[], link: string): GraphResult {
  const select = parseSelect(context.query);
  const filter = parseMessageFilter(context.query);
  const order = parseOrderBy(context.query);
  const top = parseCount(context.query, '$top', 1000) ?? context.prefer.maxPageSize ?? 10;
  const skip = parseCount(context.query, '$skip', Number.MAX_SAFE_INTEGER) ?? 0;
  const matching = sortMessages(
    messages.filter((message) => matchesFilter(message, filter)),
    order,
  );
  const page = matching.slice(skip, skip + top);
  let next: string | undefined;
  if (skip + top < matching.length) {
    const query = new URLSearchParams(context.query);
    query.set('$top', String(top));
    query.set('$skip', String(skip + top));
    next = `${link}?${query.toString()}`;
  }
  const options = { ...context.render, ...(select ? { select } : {}) };
  return {
    status: 200,
    body: {
      '@odata.context': `${context.sandbox.baseUrl()}/v1.0/$metadata#users('${context.mailbox.id}')/messages`,
      value: page.map((message) => toGraphMessage(message, options)),
      ...(next ? { '@odata.nextLink': next } : {}),
    },
  };
}

const patchableReceived = new Set(['isRead', 'categories', 'importance', 'flag', 'inferenceClassification']);
const patchableDraft = new Set([
  ...patchableReceived,
  'subject',
  'body',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'internetMessageHeaders',
]);

function patch(context: GraphRequestContext): GraphResult {
  const message = requireMessage(context);
  const body = context.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw graphErrors.badRequest('The request body must be a JSON object.', 'ErrorInvalidArgument');
  const changes = body as Record<string, unknown>;
  const allowed = message.isDraft ? patchableDraft : patchableReceived;
  for (const key of Object.keys(changes)) {
    if (key.startsWith('@odata')) continue;
    if (key === 'internetMessageHeaders' && !message.isDraft) throw graphErrors.readOnlyHeaders();
    if (!allowed.has(key)) {
      throw graphErrors.badRequest(
        `The property '${key}' can't be updated on ${message.isDraft ? 'this message' : 'a received or sent message'}.`,
        'ErrorInvalidPropertyUpdateSentMessage',
      );
    }
  }
  if ('isRead' in changes) {
    if (typeof changes['isRead'] !== 'boolean')
      throw graphErrors.badRequest("The property 'isRead' must be a boolean.", 'ErrorInvalidArgument');
    message.isRead = changes['isRead'];
  }
  if ('flag' in changes) {
    const status = (changes['flag'] as { flagStatus?: unknown } | null)?.flagStatus;
    if (status !== 'notFlagged' && status !== 'flagged' && status !== 'complete')
      throw graphErrors.badRequest('Invalid flagStatus.', 'ErrorInvalidArgument');
    message.flagStatus = status;
  }
  const input = parseMessageInput(
    Object.fromEntries(Object.entries(changes).filter(([key]) => key !== 'isRead' && key !== 'flag')),
  );
  if (input.categories) message.categories = input.categories;
  if (input.importance) message.importance = input.importance;
  if (input.subject !== undefined) message.subject = input.subject;
  if (input.body) message.body = input.body;
  if (input.toRecipients) message.toRecipients = input.toRecipients;
  if (input.ccRecipients) message.ccRecipients = input.ccRecipients;
  if (input.bccRecipients) message.bccRecipients = input.bccRecipients;
  if (input.replyTo) message.replyTo = input.replyTo;
  if (input.internetMessageHeaders) {
    const transport = message.internetMessageHeaders.filter((header) => !/^x-/i.test(header.name));
    message.internetMessageHeaders = [...transport, ...input.internetMessageHeaders];
  }
  markChanged(context.mailbox, message, context.now);
  return { status: 200, body: render(context, message) };
}

function destination(context: GraphRequestContext) {
  const destinationId = (context.body as { destinationId?: unknown } | undefined)?.destinationId;
  if (typeof destinationId !== 'string' || destinationId === '')
    throw graphErrors.badRequest("The property 'destinationId' is required.", 'ErrorInvalidArgument');
  return requireFolder(context.mailbox, destinationId);
}

function requireAttachment(context: GraphRequestContext) {
  const attachment = requireMessage(context).attachments.find((candidate) => candidate.id === context.params['attachment']);
  if (!attachment) throw graphErrors.itemNotFound();
  return attachment;
}

const messagePaths = ['messages/{message}', 'mailFolders/{folder}/messages/{message}'];

/** Messages: list (mailbox-wide or per folder), get, MIME, create, PATCH, delete, move, copy, attachments. */
export const messageRoutes: GraphRoute[] = [
  {
    method: 'GET',
    path: 'messages',
    name: 'messages.list',
    access: 'read',
    handle: (context) => list(context, [...context.mailbox.messages.values()], `${context.userUrl}/messages`),
  },
  {
    method: 'GET',
    path: 'mailFolders/{folder}/messages',
    name: 'messages.list',
    access: 'read',
    handle: (context) => {
      const folder = requireFolder(context.mailbox, context.params['folder'] ?? '');
      return list(
        context,
        messagesInFolder(context.mailbox, folder.id),
        `${context.userUrl}/mailFolders/${encodeURIComponent(context.params['folder'] ?? '')}/messages`,
      );
    },
  },
  {
    method: 'POST',
    path: 'messages',
    name: 'messages.create',
    access: 'write',
    handle: (context) => ({
      status: 201,
      body: render(context, newOutgoing(context, parseMessageInput(context.body), {}, 'drafts', true)),
    }),
  },
  {
    method: 'POST',
    path: 'mailFolders/{folder}/messages',
    name: 'messages.create',
    access: 'write',
    handle: (context) => {
      const folder = requireFolder(context.mailbox, context.params['folder'] ?? '');
      const draft = newOutgoing(context, parseMessageInput(context.body), {}, 'drafts', true);
      return { status: 201, body: render(context, moveMessage(context.mailbox, draft, folder, context.now)) };
    },
  },
  ...messagePaths.flatMap((path): GraphRoute[] => [
    {
      method: 'GET',
      path,
      name: 'messages.get',
      access: 'read',
      handle: (context) => ({ status: 200, body: render(context, requireMessage(context)) }),
    },
    { method: 'PATCH', path, name: 'messages.update', access: 'write', handle: patch },
    {
      method: 'DELETE',
      path,
      name: 'messages.delete',
      access: 'write',
      handle: (context) => {
        deleteMessage(context.mailbox, requireMessage(context));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: `${path}/$value`,
      name: 'messages.mime',
      access: 'readBody',
      handle: (context) => ({ status: 200, raw: { contentType: 'text/plain', data: toMime(requireMessage(context)) } }),
    },
    {
      method: 'POST',
      path: `${path}/move`,
      name: 'messages.move',
      access: 'write',
      handle: (context) => {
        const target = destination(context);
        return {
          status: 201,
          body: toGraphMessage(moveMessage(context.mailbox, requireMessage(context), target, context.now), context.render),
        };
      },
    },
    {
      method: 'POST',
      path: `${path}/copy`,
      name: 'messages.copy',
      access: 'write',
      handle: (context) => {
        const target = destination(context);
        const original = requireMessage(context);
        const copy = insertMessage(
          context.mailbox,
          target,
          {
            ...original,
            attachments: original.attachments.map(({ name, contentType, content, isInline, contentId }) => ({
              name,
              contentType,
              content,
              isInline,
              ...(contentId ? { contentId } : {}),
            })),
            receivedMs: original.receivedMs,
            sentMs: original.sentMs,
          },
          context.now,
        );
        return { status: 201, body: toGraphMessage(copy, context.render) };
      },
    },
    {
      method: 'GET',
      path: `${path}/attachments`,
      name: 'attachments.list',
      access: 'readBody',
      handle: (context) => {
        const message = requireMessage(context);
        return {
          status: 200,
          body: {
            '@odata.context': `${context.sandbox.baseUrl()}/v1.0/$metadata#users('${context.mailbox.id}')/messages('${messageId(message, context.prefer.immutableIds)}')/attachments`,
            value: message.attachments.map((attachment) => toGraphAttachment(attachment, true)),
          },
        };
      },
    },
    {
      method: 'POST',
      path: `${path}/attachments`,
      name: 'attachments.add',
      access: 'write',
      handle: (context) => {
        const message = requireMessage(context);
        const attachment = { ...parseAttachment(context.body), id: newItemId('attachment'), lastModifiedMs: context.now };
        message.attachments.push(attachment);
        markChanged(context.mailbox, message, context.now);
        return { status: 201, body: toGraphAttachment(attachment, true) };
      },
    },
    {
      method: 'GET',
      path: `${path}/attachments/{attachment}`,
      name: 'attachments.get',
      access: 'readBody',
      handle: (context) => ({ status: 200, body: toGraphAttachment(requireAttachment(context), true) }),
    },
    {
      method: 'GET',
      path: `${path}/attachments/{attachment}/$value`,
      name: 'attachments.content',
      access: 'readBody',
      handle: (context) => {
        const attachment = requireAttachment(context);
        return { status: 200, raw: { contentType: attachment.contentType, data: attachment.content } };
      },
    },
  ]),
];
