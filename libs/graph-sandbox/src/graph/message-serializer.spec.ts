import type { Message } from '../model/model.types';
import { toGraphMessage } from './message-serializer';

function htmlMessage(html: string): Message {
  return {
    immutableId: 'immutable-1',
    restId: 'rest-1',
    folderId: 'inbox',
    changeSeq: 1,
    changeKey: 'ck-1',
    createdMs: 0,
    lastModifiedMs: 0,
    receivedMs: 0,
    sentMs: 0,
    subject: 'hostile',
    body: { contentType: 'html', content: html },
    toRecipients: [],
    ccRecipients: [],
    bccRecipients: [],
    replyTo: [],
    isRead: false,
    isDraft: false,
    importance: 'normal',
    categories: [],
    flagStatus: 'notFlagged',
    internetMessageId: '<hostile@example.com>',
    conversationId: 'conversation-1',
    conversationIndex: Buffer.alloc(22),
    internetMessageHeaders: [],
    attachments: [],
  };
}

const textRendering = {
  immutableIds: false,
  bodyContentType: 'text' as const,
  basicOnly: false,
  baseUrl: 'https://graph.example',
};

describe('toGraphMessage text rendering', () => {
  it('renders an HTML body as text (Prefer: outlook.body-content-type="text") and as the preview', () => {
    const rendered = toGraphMessage(
      htmlMessage('<style>p{}</style><p>Hello&nbsp;<b>there</b></p><ul><li>one</li><li>two</li></ul>'),
      textRendering,
    );
    expect(rendered['body']).toEqual({ contentType: 'text', content: 'Hello there\n\none\ntwo' });
    expect(rendered['bodyPreview']).toBe('Hello there one two');
  });

  // The sandbox serves every mailbox of the all-in-one host from one event loop: a demo message's
  // HTML must not hold it for seconds. The regex converter it had took tens of seconds on these.
  it.each([
    ['unclosed <style> tags', '<style>'.repeat(40_000)],
    ['unclosed tag starts', '<a'.repeat(140_000)],
    ['deeply nested elements', '<div>'.repeat(56_000)],
  ])('renders 280 KB of %s as text and preview in under 2 s', (_name, html) => {
    expect(html.length).toBeGreaterThanOrEqual(280_000);
    const started = performance.now();
    toGraphMessage(htmlMessage(html), textRendering);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
