import { generateTraffic, trafficKinds } from './traffic-generator';

describe('generateTraffic', () => {
  const base = { mailboxAddress: 'support@contoso.example', now: Date.parse('2026-05-01T12:00:00Z') };

  it('is deterministic for a seed', () => {
    const strip = (mails: ReturnType<typeof generateTraffic>) =>
      mails.map(({ kind, subject, from }) => ({ kind, subject, from }));
    expect(strip(generateTraffic({ ...base, count: 30, seed: 5 }))).toEqual(
      strip(generateTraffic({ ...base, count: 30, seed: 5 })),
    );
    expect(strip(generateTraffic({ ...base, count: 30, seed: 5 }))).not.toEqual(
      strip(generateTraffic({ ...base, count: 30, seed: 6 })),
    );
  });

  it('gives every mail a Message-ID that depends on the seed only, so a restarted sandbox re-seeds the same mail', () => {
    const ids = (seed: number, now: number) =>
      generateTraffic({ ...base, now, count: 40, seed, largeAttachmentBytes: 1024 }).map((mail) => mail.internetMessageId);
    const first = ids(42, base.now);
    expect(first.every((id) => typeof id === 'string' && /^<[^<>\s]+@[^<>\s]+>$/.test(id))).toBe(true);
    expect(new Set(first).size).toBe(40);
    // A later start (another clock) with the same seed: the same Message-IDs.
    expect(ids(42, base.now + 3_600_000)).toEqual(first);
    const other = new Set(ids(43, base.now));
    expect(first.some((id) => other.has(id))).toBe(false);
  });

  it('produces every kind over a large batch, with threads, hostile HTML and auto-reply markers', () => {
    const mails = generateTraffic({ ...base, count: 400, seed: 11, largeAttachmentBytes: 1024 });
    expect(new Set(mails.map((mail) => mail.kind))).toEqual(new Set(trafficKinds));
    const ids = new Set(mails.map((mail) => mail.internetMessageId).filter(Boolean));
    const followUps = mails.filter((mail) => mail.kind === 'followUp');
    expect(followUps.every((mail) => mail.inReplyTo !== undefined && ids.has(mail.inReplyTo))).toBe(true);
    expect(
      mails
        .filter((mail) => mail.kind === 'hostile')
        .every((mail) => /<script|onerror|javascript:|onload|<form|<iframe|http-equiv/i.test(mail.body.content)),
    ).toBe(true);
    expect(
      mails
        .filter((mail) => mail.kind === 'autoReply')
        .every((mail) => mail.headers?.some((header) => header.name === 'Auto-Submitted')),
    ).toBe(true);
    expect(mails.filter((mail) => mail.kind === 'large').every((mail) => mail.attachments?.[0]?.content.length === 1024)).toBe(
      true,
    );
  });

  it('threads follow-ups onto what the mailbox sent when told about it', () => {
    const mails = generateTraffic({
      ...base,
      count: 50,
      seed: 2,
      mix: { followUp: 100, inquiry: 0, html: 0, attachment: 0, autoReply: 0, bounce: 0, large: 0, hostile: 0, international: 0 },
      sentMessageIds: ['<agent-reply@contoso.example>'],
    });
    expect(mails[0]).toMatchObject({ kind: 'followUp', inReplyTo: '<agent-reply@contoso.example>' });
  });
});
