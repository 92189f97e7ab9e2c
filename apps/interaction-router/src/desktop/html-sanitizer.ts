import sanitizeHtml from 'sanitize-html';

/** Makes customer HTML safe to show to agents. */
export interface HtmlSanitizer {
  sanitize(html: string): { html: string; truncated: boolean };
}

const maxBytes = 1_048_576;

/**
 * sanitize-html with an allow-list: no scripts, event handlers, forms, iframes or remote resources;
 * `cid:` images become attachment references (`data-cid`), other images are dropped.
 */
export function createHtmlSanitizer(): HtmlSanitizer {
  return {
    sanitize(html) {
      const clean = sanitizeHtml(html, {
        allowedTags: sanitizeHtml.defaults.allowedTags.filter((tag) => tag !== 'iframe').concat(['img']),
        allowedAttributes: { a: ['href', 'title'], img: ['alt', 'data-cid'], '*': ['style'] },
        allowedSchemes: ['https', 'http', 'mailto'],
        allowedSchemesAppliedToAttributes: ['href'],
        allowedStyles: { '*': { color: [/^#[0-9a-f]{3,6}$/i], 'text-align': [/^(left|right|center)$/], 'font-weight': [/^bold|\d{3}$/] } },
        transformTags: {
          img: (_tagName, attribs): sanitizeHtml.Tag => {
            const src = attribs['src'] ?? '';
            const attributes: sanitizeHtml.Attributes = src.toLowerCase().startsWith('cid:') ? { alt: attribs['alt'] ?? '', 'data-cid': src.slice(4) } : { alt: attribs['alt'] ?? '' };
            return { tagName: 'img', attribs: attributes };
          },
        },
      });
      const bytes = Buffer.byteLength(clean, 'utf8');
      if (bytes <= maxBytes) return { html: clean, truncated: false };
      return { html: Buffer.from(clean, 'utf8').subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, ''), truncated: true };
    },
  };
}
