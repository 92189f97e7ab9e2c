// Admin routes for mail: mailboxes, delivering inbound mail (one, bulk, generated traffic), what a mailbox
// holds (sent items, folders, messages), and the session faults (expired delta tokens, revoked sessions).
import type { z } from 'zod';
import { NotFoundError } from '../errors';
import { deliverInbound, type InboundMail } from '../model/mail-delivery';
import { deleteMessage, findFolder, findMessage, messagesInFolder } from '../model/mailbox.store';
import type { Recipient } from '../model/model.types';
import { generateTraffic } from '../traffic/traffic-generator';
import { bulkMailSchema, createMailboxSchema, inboundMailSchema, trafficSchema } from './admin-schemas';
import { toMailboxView, toMessageSummary } from './admin.views';
import { parse, type MailboxParams, type TenantParams, type AdminRouteDeps } from './admin-request';

function toRecipient(value: string | { name?: string | undefined; address: string }): Recipient {
  return typeof value === 'string'
    ? { emailAddress: { address: value } }
    : { emailAddress: { address: value.address, ...(value.name ? { name: value.name } : {}) } };
}

function toInboundMail(input: z.output<typeof inboundMailSchema>): InboundMail {
  const headers =
    input.headers === undefined
      ? undefined
      : Array.isArray(input.headers)
        ? input.headers
        : Object.entries(input.headers).map(([name, value]) => ({ name, value }));
  return {
    from: toRecipient(input.from),
    ...(input.to ? { to: input.to.map(toRecipient) } : {}),
    ...(input.cc ? { cc: input.cc.map(toRecipient) } : {}),
    ...(input.replyTo ? { replyTo: input.replyTo.map(toRecipient) } : {}),
    subject: input.subject,
    body: { contentType: input.bodyType, content: input.body },
    ...(headers ? { headers } : {}),
    ...(input.attachments
      ? {
          attachments: input.attachments.map((attachment) => ({
            name: attachment.name,
            contentType: attachment.contentType,
            content: Buffer.from(attachment.contentBase64, 'base64'),
            ...(attachment.isInline === undefined ? {} : { isInline: attachment.isInline }),
            ...(attachment.contentId ? { contentId: attachment.contentId } : {}),
          })),
        }
      : {}),
    ...(input.internetMessageId ? { internetMessageId: input.internetMessageId } : {}),
    ...(input.inReplyTo ? { inReplyTo: input.inReplyTo } : {}),
    ...(input.references ? { references: input.references } : {}),
    ...(input.receivedDateTime ? { receivedMs: Date.parse(input.receivedDateTime) } : {}),
    ...(input.importance ? { importance: input.importance } : {}),
    ...(input.folder ? { folder: input.folder } : {}),
  };
}

/** Mailboxes and their mail. */
export function registerMailboxAdminRoutes({ app, context, grants }: AdminRouteDeps): void {
  const { state, clock } = context;
  const mailboxOf = (params: MailboxParams) => state.getMailbox(params.tenantId, decodeURIComponent(params.mailbox));

  app.post<{ Params: TenantParams }>('/tenants/:tenantId/mailboxes', async (request, reply) => {
    const input = parse(createMailboxSchema, request.body);
    return reply
      .status(201)
      .send(
        toMailboxView(
          state.createMailbox(
            request.params.tenantId,
            Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as typeof input,
          ),
        ),
      );
  });
  app.get<{ Params: TenantParams }>('/tenants/:tenantId/mailboxes', async (request) => ({
    value: [...state.getTenant(request.params.tenantId).mailboxes.values()].map(toMailboxView),
  }));
  app.get<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox', async (request) =>
    toMailboxView(mailboxOf(request.params)),
  );
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/messages', async (request, reply) => {
    const mailbox = mailboxOf(request.params);
    const message = deliverInbound(mailbox, toInboundMail(parse(inboundMailSchema, request.body)), clock());
    return reply.status(201).send(toMessageSummary(mailbox, message));
  });
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/messages/bulk', async (request, reply) => {
    const mailbox = mailboxOf(request.params);
    const input = parse(bulkMailSchema, request.body);
    const now = clock();
    const delivered = input.messages.map((mail) => toMessageSummary(mailbox, deliverInbound(mailbox, toInboundMail(mail), now)));
    return reply.status(201).send({ value: delivered });
  });
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/traffic', async (request, reply) => {
    const mailbox = mailboxOf(request.params);
    const input = parse(trafficSchema, request.body);
    const now = clock();
    const mails = generateTraffic({
      count: input.count,
      ...(input.seed !== undefined ? { seed: input.seed } : {}),
      ...(input.mix ? { mix: input.mix } : {}),
      ...(input.largeAttachmentBytes ? { largeAttachmentBytes: input.largeAttachmentBytes } : {}),
      mailboxAddress: mailbox.mail,
      sentMessageIds: mailbox.sent.map((sent) => sent.internetMessageId),
      now,
    });
    const delivered = mails.map(({ kind, ...mail }) => ({
      kind,
      ...toMessageSummary(mailbox, deliverInbound(mailbox, mail, now)),
    }));
    return reply.status(201).send({ value: delivered });
  });
  app.get<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/sent', async (request) => ({
    value: mailboxOf(request.params).sent,
  }));
  app.get<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/folders', async (request) => {
    const mailbox = mailboxOf(request.params);
    return {
      value: [...mailbox.folders.values()].map((folder) => {
        const messages = messagesInFolder(mailbox, folder.id);
        return {
          id: folder.id,
          displayName: folder.displayName,
          wellKnownName: folder.wellKnownName ?? null,
          parentFolderId: folder.parentFolderId,
          totalItemCount: messages.length,
          unreadItemCount: messages.filter((message) => !message.isRead).length,
        };
      }),
    };
  });
  app.get<{ Params: MailboxParams & { folder: string } }>(
    '/tenants/:tenantId/mailboxes/:mailbox/folders/:folder/messages',
    async (request) => {
      const mailbox = mailboxOf(request.params);
      const folder = findFolder(mailbox, decodeURIComponent(request.params.folder));
      if (!folder) throw new NotFoundError('folder', request.params.folder);
      return {
        value: messagesInFolder(mailbox, folder.id)
          .sort((a, b) => b.receivedMs - a.receivedMs)
          .map((message) => toMessageSummary(mailbox, message)),
      };
    },
  );
  app.delete<{ Params: MailboxParams & { messageId: string } }>(
    '/tenants/:tenantId/mailboxes/:mailbox/messages/:messageId',
    async (request, reply) => {
      const mailbox = mailboxOf(request.params);
      const message = findMessage(mailbox, decodeURIComponent(request.params.messageId));
      if (!message) throw new NotFoundError('message', request.params.messageId);
      deleteMessage(mailbox, message);
      return reply.status(204).send();
    },
  );
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/delta-tokens/expire', async (request) => {
    const mailbox = mailboxOf(request.params);
    mailbox.syncGenerationFloor = mailbox.syncGeneration + 1;
    return { expiredThroughGeneration: mailbox.syncGeneration };
  });
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/revoke-sessions', async (request) => {
    const mailbox = mailboxOf(request.params);
    return { revokedRefreshTokens: grants.revokeUser(mailbox.tenantId, mailbox.id) };
  });
}
