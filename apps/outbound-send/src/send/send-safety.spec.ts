import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OutgoingMessage, SendKind } from '@mailroute/contracts';
import type { GraphMessage } from '@mailroute/graph-mail';
import { automationOf, loopRefusal } from './loop-protection';
import { addressProblem, validateOutgoingMessage } from '@mailroute/platform';
import { createSendRateLimiter } from './send-rate-limiter';

const fixtures = path.join(__dirname, '..', 'fixtures');
const load = (folder: string, prefix: string) =>
  readdirSync(path.join(fixtures, folder))
    .filter((name) => name.startsWith(prefix))
    .map(
      (name) => [name, JSON.parse(readFileSync(path.join(fixtures, folder, name), 'utf8')) as Record<string, unknown>] as const,
    );

const kindOf = (fixture: Record<string, unknown>) =>
  fixture['kind'] === 'new' ? SendKind.SEND_KIND_NEW : SendKind.SEND_KIND_REPLY;

describe('outgoing message validation', () => {
  it.each(load('hostile', 'outgoing-'))('refuses %s naming the field, as header injection', (_name, fixture) => {
    const issues = validateOutgoingMessage(OutgoingMessage.fromJSON(fixture['content']), kindOf(fixture));
    expect(issues[0]?.field).toBe(fixture['field']);
    expect(issues[0]?.injection || /parse|exactly one/.test(issues[0]?.problem ?? '')).toBe(true);
  });

  it.each(load('ok', 'outgoing-'))('accepts %s', (_name, fixture) => {
    expect(validateOutgoingMessage(OutgoingMessage.fromJSON(fixture['content']), kindOf(fixture))).toEqual([]);
  });

  it('requires a subject and a To recipient for a new message but not for a reply', () => {
    const content = OutgoingMessage.fromPartial({ bodyText: 'x' });
    expect(validateOutgoingMessage(content, SendKind.SEND_KIND_NEW).map((issue) => issue.field)).toEqual([
      'content.subject',
      'content.to',
    ]);
    expect(validateOutgoingMessage(content, SendKind.SEND_KIND_REPLY)).toEqual([]);
  });

  it('limits recipients to 500 and inline attachment content to 3 MiB', () => {
    const to = Array.from({ length: 501 }, (_, i) => ({ address: `r${i}@customer.example`, name: '' }));
    expect(validateOutgoingMessage(OutgoingMessage.fromPartial({ bodyText: 'x', to }), SendKind.SEND_KIND_REPLY)[0]?.field).toBe(
      'content.to',
    );
    const big = OutgoingMessage.fromPartial({
      bodyText: 'x',
      attachments: [{ name: 'a.bin', source: { $case: 'content', value: Buffer.alloc(3_145_729) } }],
    });
    expect(validateOutgoingMessage(big, SendKind.SEND_KIND_REPLY)[0]?.field).toBe('content.attachments[0].content');
  });

  it('parses addresses strictly', () => {
    expect(addressProblem('ann@customer.example')).toBeUndefined();
    expect(addressProblem('"ann smith"@customer.example')).toBeDefined();
    expect(addressProblem('ann@-bad-.example')).toBeDefined();
    expect(addressProblem('@customer.example')).toBeDefined();
  });
});

describe('loop protection', () => {
  it.each(load('hostile', 'inbound-'))('refuses to reply to %s', (_name, message) => {
    expect(loopRefusal(automationOf(message as unknown as GraphMessage))).toEqual(expect.any(String));
  });

  it.each(load('ok', 'inbound-'))('replies to %s', (_name, message) => {
    expect(loopRefusal(automationOf(message as unknown as GraphMessage))).toBeUndefined();
  });
});

describe('per-mailbox send rate limit', () => {
  it('allows perWindow sends per window per mailbox and says when the next slot frees', () => {
    const limiter = createSendRateLimiter({ perWindow: 2, windowMs: 1_000 });
    expect(limiter.tryTake('a', 0)).toBe(0);
    expect(limiter.tryTake('a', 100)).toBe(0);
    expect(limiter.tryTake('a', 200)).toBe(800);
    expect(limiter.tryTake('b', 200)).toBe(0);
    expect(limiter.tryTake('a', 1_000)).toBe(0);
    expect(limiter.tryTake('a', 1_050)).toBe(50);
  });
});
