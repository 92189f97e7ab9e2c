import { defaultHtmlLimits, parseBoundedHtml, type HtmlLimits } from './bounded-html';

/** Elements whose content is not text a reader sees. */
const hiddenElements = new Set(['script', 'style', 'head', 'title', 'noscript', 'template', 'object', 'svg', 'math']);

/** Elements that start and end a line. */
const blockElements = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'caption',
  'center',
  'details',
  'dialog',
  'div',
  'dl',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'tfoot',
  'thead',
  'ul',
]);

/** Elements that start a line (one item of a list, a table row, a line break). */
const lineElements = new Set(['br', 'dd', 'dt', 'li', 'tr']);

/** The text of an HTML body. */
export interface HtmlText {
  text: string;
  /** True when part of the HTML was left out: longer than the limit's characters, or nested deeper than its depth. */
  truncated: boolean;
}

/**
 * A plain-text rendering of an HTML body for routing rules and previews: drops scripts, styles,
 * comments and images, keeps the text of links, puts blocks, list items and table rows on lines of
 * their own and table cells apart, decodes entities. Parsed by htmlparser2 within `limits` (default
 * 1 MiB, 512 open elements; see `parseBoundedHtml`), so its time is linear in the input whatever
 * the HTML. Not a sanitizer: the result is text and must still be escaped for display.
 *
 * Written on htmlparser2's event parser rather than a converter such as html-to-text: that one
 * builds the whole document tree first (recursion that overflows the stack on deep nesting) and
 * formats long lists in quadratic time (2 s for 70,000 list items).
 */
export function htmlToText(html: string, limits: Readonly<HtmlLimits> = defaultHtmlLimits): HtmlText {
  const parts: string[] = [];
  let hidden = 0;
  let preformatted = 0;
  const lineBreak = () => parts.push('\n');
  const { truncated } = parseBoundedHtml(
    html,
    {
      onopentagname(name) {
        if (hiddenElements.has(name)) hidden += 1;
        else if (name === 'pre') preformatted += 1;
        if (hidden > 0) return;
        if (lineElements.has(name) || blockElements.has(name)) lineBreak();
        else if (name === 'td' || name === 'th') parts.push('\t');
      },
      onclosetag(name) {
        if (hiddenElements.has(name)) hidden = Math.max(0, hidden - 1);
        else if (name === 'pre') preformatted = Math.max(0, preformatted - 1);
        if (hidden === 0 && blockElements.has(name)) lineBreak();
      },
      ontext(text) {
        if (hidden === 0) parts.push(preformatted > 0 ? text : text.replace(/\s+/g, ' '));
      },
    },
    limits,
  );
  const text = parts
    .join('')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { text, truncated };
}
