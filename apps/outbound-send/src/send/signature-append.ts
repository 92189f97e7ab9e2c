import type { OutgoingMessage, RenderedSignature } from '@mailroute/contracts';
import { appendSignature } from '@mailroute/routing-engine';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);

/**
 * The message with its signature appended once (the engine's appendSignature: a marked
 * `<div data-mailroute-signature>` in HTML, after `-- ` in text). An HTML body takes the
 * signature's HTML (or its text, escaped, line by line); a text-only body takes its text. The HTML
 * is sanitized afterwards with the rest of the body, like anything an agent writes.
 */
export function withSignature(content: OutgoingMessage, signature: RenderedSignature | undefined): OutgoingMessage {
  if (!signature) return content;
  if (content.bodyHtml) {
    const html = signature.html || escapeHtml(signature.text).replace(/\r?\n/g, '<br>');
    return { ...content, bodyHtml: appendSignature({ html: content.bodyHtml, text: '' }, { html, text: '' }).html };
  }
  if (!signature.text) return content;
  return { ...content, bodyText: appendSignature({ html: '', text: content.bodyText }, { html: '', text: signature.text }).text };
}
