import sanitizeHtml from 'sanitize-html';
import { boundHtml, defaultHtmlLimits, type HtmlLimits } from '@mailroute/platform';

/**
 * Who reads the sanitized HTML:
 * - `agent`: an agent desktop shows it (customer mail and other agents' replies); `cid:` images
 *   become `<img data-cid="…">` for the desktop to resolve from the interaction's attachments, and
 *   remote (http/https) images `<img data-remote-src="…">` — inert: the desktop loads one only when
 *   the agent asks to see that message's remote images;
 * - `customer`: it goes out in a reply; `cid:` images keep `src="cid:…"`, which the mail's inline
 *   attachments resolve.
 */
export type MailHtmlReader = 'agent' | 'customer';

/** Sanitized HTML. */
export interface SanitizedHtml {
  html: string;
  /** True when part of the input or of the output was left out (see `sanitizeMailHtml`). */
  truncated: boolean;
}

export interface MailHtmlSanitizeOptions {
  /** Bounds of the input parse. Default 1 MiB, 512 open elements. */
  limits?: Readonly<HtmlLimits>;
  /** The output is cut to this many UTF-8 bytes. Default: no cut. */
  maxOutputBytes?: number;
}

// Anchored at both ends: sanitize-html keeps a declaration whose value matches any of its patterns,
// so an unanchored one (such as /^bold|\d{3}$/) lets `bold expression(…)` or `url(https://…) 100` through.
const hexColor = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
const allowedStyles: sanitizeHtml.IOptions['allowedStyles'] = {
  '*': {
    color: [hexColor],
    'background-color': [hexColor],
    'text-align': [/^(?:left|right|center|justify)$/],
    'font-weight': [/^(?:normal|bold|[1-9]00)$/],
    'font-style': [/^(?:normal|italic)$/],
    'text-decoration': [/^(?:none|underline|line-through)$/],
  },
};

const allowedTags = [...sanitizeHtml.defaults.allowedTags.filter((tag) => tag !== 'iframe'), 'img'];

const baseAttributes: Record<string, string[]> = {
  a: ['href', 'title'],
  td: ['colspan', 'rowspan'],
  th: ['colspan', 'rowspan', 'scope'],
  ol: ['start', 'type'],
  '*': ['style'],
};

// A content id (RFC 2392: an addr-spec's characters), nothing that could read as another URL.
const cidSource = /^cid:([A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]{1,255})$/i;
const cidOf = (src: string | undefined): string | undefined => cidSource.exec((src ?? '').trim())?.[1];
const contentId = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]{1,255}$/;

/** A remote image's address as the desktop may load it: an absolute http(s) URL of at most 2048 characters, normalised. */
function remoteImageOf(src: string | undefined): string | undefined {
  const value = (src ?? '').trim();
  if (!/^https?:\/\/[^/\\]/i.test(value) || value.length > 2_048) return undefined;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.href.length <= 2_048 ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function optionsFor(reader: MailHtmlReader): sanitizeHtml.IOptions {
  return {
    allowedTags,
    allowedAttributes: { ...baseAttributes, img: reader === 'agent' ? ['alt', 'data-cid', 'data-remote-src'] : ['alt', 'src'] },
    // Links may point at the web or at an address; nothing else (javascript:, data:, vbscript:, file:, …).
    allowedSchemes: ['https', 'http', 'mailto'],
    allowedSchemesByTag: { img: ['cid'] },
    allowedSchemesAppliedToAttributes: ['href', 'src'],
    allowProtocolRelative: false,
    allowedStyles,
    disallowedTagsMode: 'discard',
    transformTags: {
      // Inline images by content id; for agents also remote images, held back as data-remote-src. Any
      // other image (data:, another scheme; a remote one for customers) is dropped to its alt text.
      img: (_tagName, attribs): sanitizeHtml.Tag => {
        // An agent's copy sanitized before (at intake) keeps its data-cid: sanitizing again changes nothing.
        const kept = reader === 'agent' && contentId.test(attribs['data-cid'] ?? '') ? attribs['data-cid'] : undefined;
        const cid = cidOf(attribs['src']) ?? kept;
        const alt = attribs['alt'] ?? '';
        if (cid === undefined) {
          const remote =
            reader === 'agent' ? (remoteImageOf(attribs['src']) ?? remoteImageOf(attribs['data-remote-src'])) : undefined;
          return { tagName: 'img', attribs: remote ? { alt, 'data-remote-src': remote } : { alt } };
        }
        return { tagName: 'img', attribs: reader === 'agent' ? { alt, 'data-cid': cid } : { alt, src: `cid:${cid}` } };
      },
    },
  };
}

const readerOptions: Readonly<Record<MailHtmlReader, sanitizeHtml.IOptions>> = {
  agent: optionsFor('agent'),
  customer: optionsFor('customer'),
};

/**
 * The one HTML sanitizer of mailroute (sanitize-html with an allow-list), for customer mail shown to
 * agents and for agents' HTML shown to other agents or sent to customers. What survives: text
 * formatting, headings, lists, tables (with colspan/rowspan), quotes, links to http(s) and mailto,
 * images by `cid:` (and, for agents, remote ones held back as `data-remote-src`), and a few style properties with literal values (hex colors, alignment,
 * weight, italics, underline). What never does: scripts, styles, event handlers, forms, frames,
 * objects, SVG, remote or `data:` resources, `javascript:` and other URL schemes, CSS `url()` and
 * `expression()`. The input is parsed within `limits` (default 1 MiB, 512 open elements) first, so
 * the time is linear in it; `truncated` tells when a part was left out.
 */
export function sanitizeMailHtml(html: string, reader: MailHtmlReader, options: MailHtmlSanitizeOptions = {}): SanitizedHtml {
  const bounded = boundHtml(html, options.limits ?? defaultHtmlLimits);
  const clean = sanitizeHtml(bounded.html, readerOptions[reader]);
  const max = options.maxOutputBytes;
  if (max === undefined || Buffer.byteLength(clean, 'utf8') <= max) return { html: clean, truncated: bounded.truncated };
  return {
    html: Buffer.from(clean, 'utf8')
      .subarray(0, max)
      .toString('utf8')
      .replace(/\uFFFD$/, ''),
    truncated: true,
  };
}
