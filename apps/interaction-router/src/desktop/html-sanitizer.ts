import { sanitizeMailHtml, type SanitizedHtml } from '@mailroute/graph-mail';

/** Makes HTML safe to show on an agent desktop: customer mail, and other agents' replies in a thread. */
export interface HtmlSanitizer {
  sanitize(html: string): SanitizedHtml;
}

/** At most 1 MiB of sanitized HTML per message reaches a desktop. */
const maxOutputBytes = 1_048_576;

/**
 * The shared mail HTML sanitizer (`sanitizeMailHtml` of libs/graph-mail) for agents to read:
 * `cid:` images become attachment references (`data-cid`), other images lose their source.
 */
export function createHtmlSanitizer(): HtmlSanitizer {
  return { sanitize: (html) => sanitizeMailHtml(html, 'agent', { maxOutputBytes }) };
}
