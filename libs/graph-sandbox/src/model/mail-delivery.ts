import type { InternetMessageHeader, Mailbox, Message, Recipient } from './model.types';
import { insertMessage, newInternetMessageId, wellKnownFolder, findFolder, type NewMessage } from './mailbox.store';

/** An inbound email as the admin API and the traffic generator describe it. */
export interface InboundMail {
  from: Recipient;
  /** Who actually sent it when not `from` (a delegate sending on behalf). */
  sender?: Recipient;
  to?: Recipient[];
  cc?: Recipient[];
  replyTo?: Recipient[];
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  /** Extra transport headers (`Auto-Submitted`, `X-Mailer`, `Content-Language`, …). Any name is allowed inbound. */
  headers?: InternetMessageHeader[];
  attachments?: Array<{ name: string; contentType: string; content: Buffer; isInline?: boolean; contentId?: string }>;
  internetMessageId?: string;
  /** The Message-ID this mail replies to (In-Reply-To); threads it into that conversation. */
  inReplyTo?: string;
  references?: string[];
  receivedMs?: number;
  importance?: Message['importance'];
  /** Folder id or well-known name; `inbox` by default. */
  folder?: string;
}

function formatAddress(recipient: Recipient): string {
  const { name, address } = recipient.emailAddress;
  return name ? `"${name.replace(/"/g, "'")}" <${address}>` : `<${address}>`;
}

/** The RFC 5322 headers Exchange keeps on a received message (what `$select=internetMessageHeaders` returns). */
function transportHeaders(
  mail: InboundMail,
  mailbox: Mailbox,
  internetMessageId: string,
  receivedMs: number,
): InternetMessageHeader[] {
  const date = new Date(receivedMs).toUTCString().replace('GMT', '+0000');
  const headers: InternetMessageHeader[] = [
    { name: 'Received', value: `from mail.sandbox.invalid (127.0.0.1) by sandbox.outlook.invalid with ESMTPS; ${date}` },
    { name: 'From', value: formatAddress(mail.from) },
    {
      name: 'To',
      value: (mail.to ?? [{ emailAddress: { address: mailbox.mail, name: mailbox.displayName } }]).map(formatAddress).join(', '),
    },
    ...(mail.cc && mail.cc.length > 0 ? [{ name: 'CC', value: mail.cc.map(formatAddress).join(', ') }] : []),
    { name: 'Subject', value: mail.subject },
    { name: 'Date', value: date },
    { name: 'Message-ID', value: internetMessageId },
    ...(mail.inReplyTo ? [{ name: 'In-Reply-To', value: mail.inReplyTo }] : []),
    ...((mail.references ?? (mail.inReplyTo ? [mail.inReplyTo] : [])).length > 0
      ? [{ name: 'References', value: (mail.references ?? [mail.inReplyTo ?? '']).join(' ') }]
      : []),
    { name: 'MIME-Version', value: '1.0' },
    {
      name: 'Content-Type',
      value:
        mail.attachments && mail.attachments.length > 0
          ? 'multipart/mixed'
          : `text/${mail.body.contentType === 'html' ? 'html' : 'plain'}; charset="utf-8"`,
    },
  ];
  return [...headers, ...(mail.headers ?? [])];
}

/** Delivers an inbound email into `mailbox` (inbox unless `folder` says otherwise), threading replies. */
export function deliverInbound(mailbox: Mailbox, mail: InboundMail, now: number): Message {
  const receivedMs = mail.receivedMs ?? now;
  const internetMessageId = mail.internetMessageId ?? newInternetMessageId(mail.from.emailAddress.address);
  const folder = (mail.folder ? findFolder(mailbox, mail.folder) : undefined) ?? wellKnownFolder(mailbox, 'inbox');
  const input: NewMessage = {
    subject: mail.subject,
    body: mail.body,
    from: mail.from,
    ...(mail.sender ? { sender: mail.sender } : {}),
    toRecipients: mail.to ?? [{ emailAddress: { address: mailbox.mail, name: mailbox.displayName } }],
    ccRecipients: mail.cc ?? [],
    replyTo: mail.replyTo ?? [],
    internetMessageId,
    internetMessageHeaders: transportHeaders(mail, mailbox, internetMessageId, receivedMs),
    attachments: (mail.attachments ?? []).map((attachment) => ({
      name: attachment.name,
      contentType: attachment.contentType,
      content: attachment.content,
      isInline: attachment.isInline ?? false,
      ...(attachment.contentId ? { contentId: attachment.contentId } : {}),
    })),
    receivedMs,
    sentMs: receivedMs - 2000,
    threadOn: [...(mail.inReplyTo ? [mail.inReplyTo] : []), ...(mail.references ?? [])],
    ...(mail.importance ? { importance: mail.importance } : {}),
  };
  return insertMessage(mailbox, folder, input, now);
}
