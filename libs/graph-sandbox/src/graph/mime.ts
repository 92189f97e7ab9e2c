import { randomBytes } from 'node:crypto';
import type { Message, Recipient } from '../model/model.types';

function address(recipient: Recipient): string {
  const { name, address: email } = recipient.emailAddress;
  return name ? `"${name.replace(/"/g, "'")}" <${email}>` : `<${email}>`;
}

function wrapBase64(data: Buffer): string {
  return data.toString('base64').replace(/.{1,76}/g, '$&\r\n');
}

/** The MIME rendering Graph returns from `GET …/messages/{id}/$value`. */
export function toMime(message: Message): string {
  const transport = message.internetMessageHeaders.filter((header) => !/^(content-type|mime-version)$/i.test(header.name));
  const has = (name: string) => transport.some((header) => header.name.toLowerCase() === name.toLowerCase());
  const lines: string[] = transport.map((header) => `${header.name}: ${header.value}`);
  if (!has('From') && message.from) lines.push(`From: ${address(message.from)}`);
  if (!has('To') && message.toRecipients.length > 0) lines.push(`To: ${message.toRecipients.map(address).join(', ')}`);
  if (!has('Subject')) lines.push(`Subject: ${message.subject}`);
  if (!has('Date')) lines.push(`Date: ${new Date(message.sentMs).toUTCString().replace('GMT', '+0000')}`);
  if (!has('Message-ID')) lines.push(`Message-ID: ${message.internetMessageId}`);
  lines.push(`Thread-Index: ${message.conversationIndex.toString('base64')}`, 'MIME-Version: 1.0');
  const bodyType = message.body.contentType === 'html' ? 'text/html' : 'text/plain';
  const bodyPart = [
    `Content-Type: ${bodyType}; charset="utf-8"`,
    'Content-Transfer-Encoding: base64',
    '',
    wrapBase64(Buffer.from(message.body.content, 'utf8')),
  ];
  if (message.attachments.length === 0) return [...lines, ...bodyPart].join('\r\n');
  const boundary = `_sandbox_${randomBytes(8).toString('hex')}_`;
  const parts = message.attachments.map((attachment) =>
    [
      `--${boundary}`,
      `Content-Type: ${attachment.contentType}; name="${attachment.name}"`,
      `Content-Disposition: ${attachment.isInline ? 'inline' : 'attachment'}; filename="${attachment.name}"`,
      ...(attachment.contentId ? [`Content-ID: <${attachment.contentId}>`] : []),
      'Content-Transfer-Encoding: base64',
      '',
      wrapBase64(attachment.content),
    ].join('\r\n'),
  );
  return [
    ...lines,
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    ...bodyPart,
    ...parts,
    `--${boundary}--`,
    '',
  ].join('\r\n');
}
