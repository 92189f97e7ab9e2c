import { htmlToText } from './html-to-text';

describe('htmlToText', () => {
  it('drops scripts and styles, keeps text and line breaks, decodes entities', () => {
    const text = htmlToText('<html><head><style>p{}</style></head><body><p>Hello&nbsp;&amp; welcome</p><script>alert(1)</script><div>Line&#33;<br>two</div></body></html>');
    expect(text).toBe('Hello & welcome\nLine!\ntwo');
  });
});
