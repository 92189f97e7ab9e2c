import { htmlToText } from './html-to-text';

describe('htmlToText', () => {
  it('drops scripts, styles, comments and the head, keeps text and line breaks, decodes entities', () => {
    const { text, truncated } = htmlToText(
      '<html><head><title>Title</title><style>p{}</style></head><body><p>Hello&nbsp;&amp; welcome</p><script>alert(1)</script><!-- note --><div>Line&#33;<br>two</div></body></html>',
    );
    expect(text).toBe('Hello & welcome\n\nLine!\ntwo');
    expect(truncated).toBe(false);
  });

  it('puts list items and table rows on lines of their own and table cells apart', () => {
    const { text } = htmlToText(
      '<ul><li>one</li><li>two</li></ul><table><tr><th>Order</th><th>Total</th></tr><tr><td>A-1</td><td>12 &euro;</td></tr></table>',
    );
    expect(text).toBe('one\ntwo\n\nOrder Total\nA-1 12 €');
  });

  it('keeps the text of links and drops images, whitespace collapsed as a browser shows it', () => {
    expect(htmlToText('<p>See   <a href="https://example.com/x">the\n  order</a> <img src="cid:logo" alt="logo"></p>').text).toBe(
      'See the order',
    );
  });

  it('reads a body that never closes its head', () => {
    expect(htmlToText('<html><head><title>x</title><body>text <b>bold</b>').text).toBe('text bold');
  });

  it('reads at most the limit of characters and says it cut', () => {
    expect(htmlToText('<p>abcdef</p>', { maxChars: 6, maxDepth: 512 })).toEqual({ text: 'abc', truncated: true });
  });

  it('stops before an element nested deeper than the limit and says it cut', () => {
    expect(htmlToText('<div>a<div>b<div>c</div></div></div>d', { maxChars: 1000, maxDepth: 2 })).toEqual({
      text: 'a\nb',
      truncated: true,
    });
  });

  // Each of these took the regex-based converter seconds (up to 37 s) on the event loop. The bound
  // is generous for a loaded 2-core CI machine; the converter takes tens of milliseconds.
  it.each([
    ['unclosed <style> tags', '<style>'.repeat(40_000)],
    ['unclosed <script> tags', '<script>'.repeat(35_000)],
    ['unclosed comments', '<!--'.repeat(70_000)],
    ['unclosed tag starts', '<a'.repeat(140_000)],
    ['deeply nested elements', '<div>'.repeat(56_000)],
    ['nested elements with stray close tags', '<span>'.repeat(35_000) + '</x>'.repeat(35_000)],
    ['a list of 56,000 items', `<ul>${'<li>x'.repeat(56_000)}`],
  ])('converts 280 KB of %s in under 2 s', (_name, html) => {
    expect(html.length).toBeGreaterThanOrEqual(280_000);
    const started = performance.now();
    htmlToText(html);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
