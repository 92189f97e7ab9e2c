import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'htmlparser2';
import { sanitizeMailHtml, type MailHtmlReader } from './mail-html-sanitizer';

const fixtures = path.join(__dirname, '..', 'fixtures', 'mail');
const load = (folder: 'ok' | 'hostile') =>
  readdirSync(path.join(fixtures, folder))
    .filter((name) => name.endsWith('.html'))
    .map((name) => [name, readFileSync(path.join(fixtures, folder, name), 'utf8')] as const);
const readers: MailHtmlReader[] = ['agent', 'customer'];
const cases = (folder: 'ok' | 'hostile') =>
  load(folder).flatMap(([name, html]) => readers.map((reader) => [name, reader, html] as const));

interface Element {
  name: string;
  attribs: Record<string, string>;
}
function elementsOf(html: string): Element[] {
  const out: Element[] = [];
  const walk = (nodes: readonly unknown[]) => {
    for (const node of nodes as { type: string; name?: string; attribs?: Record<string, string>; children?: unknown[] }[]) {
      if (node.name !== undefined) out.push({ name: node.name, attribs: node.attribs ?? {} });
      if (node.children) walk(node.children);
    }
  };
  walk(parseDocument(html).children);
  return out;
}

const allowedAttributes = new Set([
  'data-remote-src',
  'href',
  'title',
  'colspan',
  'rowspan',
  'scope',
  'start',
  'type',
  'style',
  'alt',
  'src',
  'data-cid',
]);
const neverElements = [
  'script',
  'style',
  'iframe',
  'object',
  'embed',
  'link',
  'meta',
  'base',
  'form',
  'input',
  'button',
  'svg',
  'math',
  'video',
  'audio',
  'source',
  'noscript',
  'body',
  'html',
  'head',
];

/** Everything a hostile fixture must have lost, checked on the parsed output. */
function expectHarmless(html: string, reader: MailHtmlReader): void {
  for (const element of elementsOf(html)) {
    expect(neverElements).not.toContain(element.name);
    for (const [name, value] of Object.entries(element.attribs)) {
      expect(allowedAttributes).toContain(name); // no event handler, no srcset/background/poster/action
      expect(value).not.toMatch(/javascript:|vbscript:|data:|expression|@import|url\s*\(/i);
      if (name === 'href') expect(value).toMatch(/^(https?:\/\/[^/]|mailto:)/i);
      if (name === 'data-remote-src')
        expect({ reader, remote: value }).toEqual({ reader: 'agent', remote: expect.stringMatching(/^https?:\/\/[^/]/) });
      if (name === 'src')
        expect({ reader, src: value }).toEqual({ reader: 'customer', src: expect.stringMatching(/^cid:[^:]+$/) });
      if (name === 'style') expect(value).not.toMatch(/[()\\@]/);
    }
  }
  expect(html).not.toMatch(/<script|<style|onerror|onload|onclick/i);
}

describe('sanitizeMailHtml', () => {
  it.each(load('hostile'))('has checks that catch %s when it is not sanitized', (_name, html) => {
    expect(() => expectHarmless(html, 'customer')).toThrow();
  });

  it.each(cases('hostile'))('neutralises %s for the %s', (_name, reader, html) => {
    const clean = sanitizeMailHtml(html, reader);
    expectHarmless(clean.html, reader);
    expect(clean.truncated).toBe(false);
  });

  const kept: Record<string, { both: string[]; agent: string[]; customer: string[] }> = {
    'inbound-outlook-message.html': {
      both: [
        'Hello <b>support</b>',
        '<p style="color:#1f497d;text-align:left">',
        '<ul><li>the box was open</li><li>two items missing</li></ul>',
        '<ol start="3">',
        '<th scope="col">Item</th>',
        '<td colspan="2">Total: 2</td>',
        '<a href="https://shop.example/orders/A-1042">A-1042</a>',
        '<a href="mailto:ann@customer.example">me</a>',
        '<blockquote>',
      ],
      agent: ['<img alt="damaged box" data-cid="image001.png@01DA0000.12345678" />'],
      customer: ['<img alt="damaged box" src="cid:image001.png@01DA0000.12345678" />'],
    },
    'outbound-agent-reply.html': {
      both: [
        '<ol><li>a new mug</li><li>a <strong>refund</strong> of the shipping</li></ol>',
        '<td colspan="2" style="font-weight:bold">Ships today</td>',
        '<p style="font-weight:700;font-style:italic;text-decoration:underline;background-color:#ffff00">',
        'Kind regards,<br />Alice',
        '<a href="https://contoso.example/help">Help centre</a>',
      ],
      agent: ['<img alt="Contoso" data-cid="signature-logo" />'],
      customer: ['<img alt="Contoso" src="cid:signature-logo" />'],
    },
  };

  it.each(cases('ok'))('keeps the formatting of %s for the %s', (name, reader, html) => {
    const expected = kept[name];
    if (!expected) throw new Error(`fixtures/mail/ok/${name} has no expectations in this spec`);
    const clean = sanitizeMailHtml(html, reader);
    for (const fragment of [...expected.both, ...expected[reader]]) expect(clean.html).toContain(fragment);
    expectHarmless(clean.html, reader);
  });

  it.each(cases('ok'))('changes nothing when %s, sanitized for the %s, is sanitized again', (_name, reader, html) => {
    const once = sanitizeMailHtml(html, reader).html;
    expect(sanitizeMailHtml(once, reader).html).toBe(once);
  });

  it.each(cases('hostile'))('changes nothing when %s, sanitized for the %s, is sanitized again', (_name, reader, html) => {
    const once = sanitizeMailHtml(html, reader).html;
    expect(sanitizeMailHtml(once, reader).html).toBe(once);
  });

  it('keeps a remote image for agents only as an inert data-remote-src (http/https, normalised), never as src', () => {
    const html =
      '<img alt="logo" src="https://shop.example/logo.png?a=1&amp;b=2"><img src="http://t.example/o.gif"><img src="data:image/png;base64,AAAA"><img src="javascript:alert(1)"><img src="//cdn.example/p.gif">';
    expect(sanitizeMailHtml(html, 'agent').html).toBe(
      '<img alt="logo" data-remote-src="https://shop.example/logo.png?a=1&amp;b=2" /><img alt="" data-remote-src="http://t.example/o.gif" /><img alt="" /><img alt="" /><img alt="" />',
    );
    expect(sanitizeMailHtml(html, 'customer').html).toBe(
      '<img alt="logo" /><img alt="" /><img alt="" /><img alt="" /><img alt="" />',
    );
    // A data-remote-src the sender wrote itself is checked like a src.
    expect(sanitizeMailHtml('<img data-remote-src="javascript:alert(1)">', 'agent').html).toBe('<img alt="" />');
  });

  it('cuts the output to maxOutputBytes at a character boundary and says so', () => {
    const clean = sanitizeMailHtml(`<p>${'é'.repeat(100)}</p>`, 'agent', { maxOutputBytes: 10 });
    expect(clean).toEqual({ html: '<p>ééé', truncated: true });
  });

  // The bound is generous for a loaded 2-core CI machine.
  it.each([
    ['deeply nested elements', '<div>'.repeat(56_000)],
    ['nested elements with stray close tags', '<span>'.repeat(35_000) + '</x>'.repeat(35_000)],
    ['unclosed comments', '<!--'.repeat(70_000)],
    ['style attributes', '<p style="color:#fff;font-weight:bold">x</p>'.repeat(6_500)],
  ])('sanitizes 280 KB of %s in under 2 s', (_name, html) => {
    expect(html.length).toBeGreaterThanOrEqual(270_000);
    const started = performance.now();
    sanitizeMailHtml(html, 'agent');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
